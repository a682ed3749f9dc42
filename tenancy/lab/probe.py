"""`lab probe W --from A --to B --port N/PROTO` (or `--batch FILE|-`): try flows on the lab's real dataplane.

Endpoints are `namespace/workload` (a bare Pod's name, or the name of any controller above its pods: Deployment,
ReplicaSet, StatefulSet, DaemonSet, Job, CronJob) - one Ready pod of it is used, a different pod than the source
when the workload has several - or `ip:ADDR`, an outside host with that address (as a source it sends from ADDR; as
a destination it listens at ADDR on every port). A flow is `allow` when the destination answered: a TCP connect, a
UDP reply, an SCTP INIT-ACK.

`Lab.probe_batch` is the API `verify` uses: many flows in parallel, each answered with its verdict.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from kube.endpoints import Endpoint
from tenancy.lab import netns, probing, state, topology
from tenancy.lab.state import LabError, LabState

EXIT_OK = 0


@dataclass(frozen=True)
class ProbeEnd:
    netns: str
    ip: str
    outside: bool
    uid: str = ""


class Lab:
    """A running lab, seen from the host: its pods (from the node agent's pods.json) and its namespaces."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir.absolute()
        self.state = LabState.load(self.workdir)
        self.names = topology.Names(self.state.lab_id)
        if not netns.exists(self.state.node_netns):
            raise LabError(f"the lab at {self.workdir} is not running (no namespace {self.state.node_netns}); "
                           f"start it with `tenancy lab up --workdir {self.workdir}`")
        self._outside: set[str] = set()
        self.reload()

    def reload(self) -> None:
        try:
            raw = json.loads((self.workdir / state.PODS_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise LabError(f"cannot read the lab's pods ({self.workdir / state.PODS_FILE}): {exc}") from None
        self.pods: list[dict[str, Any]] = [p for p in raw.get("pods", []) if p.get("ready")]

    def pods_of(self, endpoint: str) -> list[dict[str, Any]]:
        workload = Endpoint.parse(endpoint)
        return sorted((p for p in self.pods
                       if p["namespace"] == workload.namespace and workload.name in p.get("workloads", [])),
                      key=lambda p: p["name"])

    def _outside_address(self, address: str) -> str:
        try:
            ip = ipaddress.IPv4Address(address)
        except ValueError:
            raise LabError(f"ip:{address}: not an IPv4 address") from None
        if str(ip) not in self._outside:
            try:
                topology.add_outside_address(self.names, str(ip))
            except ValueError as exc:
                raise LabError(str(exc)) from None
            self._outside.add(str(ip))
        return str(ip)

    def resolve(self, endpoint: str, avoid_uid: str = "") -> ProbeEnd:
        parsed = Endpoint.parse_or_none(endpoint)
        if parsed is not None and parsed.is_address:
            return ProbeEnd(self.names.outside, self._outside_address(parsed.name), True)
        if parsed is None or not parsed.is_workload or "/" in parsed.name:
            raise LabError(f"endpoint {endpoint!r}: expected namespace/workload or ip:ADDR")
        pods = self.pods_of(endpoint)
        if not pods:
            raise LabError(f"endpoint {endpoint!r}: no Ready pod of that workload in the lab")
        pod = next((p for p in pods if p["uid"] != avoid_uid), pods[0])
        return ProbeEnd(pod["netns"], pod["ip"], False, pod["uid"])

    def flow(self, source: str, destination: str, port: str) -> probing.Flow:
        number, protocol = parse_port(port)
        src = self.resolve(source)
        dst = self.resolve(destination, avoid_uid=src.uid)
        if src.outside and dst.outside:
            raise LabError(f"{source} -> {destination}: both ends are outside the cluster; nothing to probe")
        return probing.Flow(src.netns, dst.ip, number, protocol, src_ip=src.ip if src.outside else None)

    def probe_batch(self, requests: Sequence[dict[str, Any]], timeout: float = probing.DEFAULT_TIMEOUT,
                    workers: int = probing.DEFAULT_WORKERS) -> list[dict[str, Any]]:
        """Answer each {"from", "to", "port"} with the same object plus "verdict" ("allow" | "deny"), or "error"."""
        flows: list[probing.Flow | None] = []
        answers: list[dict[str, Any]] = []
        for request in requests:
            answer = dict(request)
            try:
                flows.append(self.flow(str(request["from"]), str(request["to"]), str(request["port"])))
            except (LabError, KeyError, ValueError) as exc:
                flows.append(None)
                answer["error"] = str(exc) if not isinstance(exc, KeyError) else f"missing field {exc}"
            answers.append(answer)
        todo = [f for f in flows if f is not None]
        try:
            results = iter(probing.probe_many(todo, timeout=timeout, workers=workers))
        finally:
            # netns caches a descriptor per namespace entered, and a descriptor keeps its namespace alive: a pod
            # deleted later would leave its namespace behind while this process lives, with the veth of its index
            # still on the bridge, so the node agent could not give the index to the next pod ("File exists").
            for name in {f.src_netns for f in todo}:
                netns.forget(name)
        for flow, answer in zip(flows, answers, strict=True):
            if flow is not None:
                answer["verdict"] = "allow" if next(results) else "deny"
        return answers

    def flush_conntrack(self) -> None:
        """Forget every tracked connection of the dataplane (so a new policy is judged on new flows only)."""
        netns.run(["conntrack", "-F"], netns=self.state.node_netns, check=False)


def parse_port(text: str) -> tuple[int, str]:
    number, _, protocol = text.partition("/")
    protocol = (protocol or "TCP").upper()
    if protocol not in probing.PROTOCOLS:
        raise LabError(f"port {text!r}: protocol must be one of {', '.join(probing.PROTOCOLS)}")
    try:
        value = int(number)
    except ValueError:
        raise LabError(f"port {text!r}: expected N/PROTO with a number N") from None
    if not 1 <= value <= 65535:
        raise LabError(f"port {text!r}: out of range 1-65535")
    return value, protocol


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("probe", help="try flows with real packets: allow or deny",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--from", dest="source", metavar="A")
    parser.add_argument("--to", dest="destination", metavar="B")
    parser.add_argument("--port", metavar="N/PROTO")
    parser.add_argument("--batch", metavar="FILE", help='JSON lines {"from","to","port"}; - reads standard input')
    parser.add_argument("--timeout", type=float, default=probing.DEFAULT_TIMEOUT,
                        help=f"seconds to wait for an answer (default {probing.DEFAULT_TIMEOUT})")
    parser.add_argument("--workers", type=int, default=probing.DEFAULT_WORKERS, help="parallel probes")
    parser.set_defaults(run=run)


def _read_batch(stream: TextIO) -> list[dict[str, Any]]:
    requests = []
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise LabError(f"batch line {number}: not JSON ({exc})") from None
        if not isinstance(item, dict):
            raise LabError(f"batch line {number}: expected an object")
        requests.append(item)
    return requests


def run(args: argparse.Namespace) -> int:
    try:
        state.require_linux_root()
        lab = Lab(args.workdir)
        if args.batch:
            if args.source or args.destination or args.port:
                raise LabError("--batch excludes --from/--to/--port")
            if args.batch == "-":
                requests = _read_batch(sys.stdin)
            else:
                with open(args.batch, encoding="utf-8") as stream:
                    requests = _read_batch(stream)
            started = time.monotonic()
            answers = lab.probe_batch(requests, timeout=args.timeout, workers=args.workers)
            write_lines(answers, sys.stdout)
            elapsed = time.monotonic() - started
            errors = sum(1 for a in answers if "error" in a)
            print(f"lab probe: {len(answers)} flows in {elapsed:.2f}s "
                  f"({len(answers) / elapsed if elapsed else 0:.0f}/s), {errors} errors", file=sys.stderr)
            return state.EXIT_CANNOT_RUN if errors else EXIT_OK
        if not (args.source and args.destination and args.port):
            raise LabError("probe needs --from, --to and --port (or --batch)")
        [answer] = lab.probe_batch([{"from": args.source, "to": args.destination, "port": args.port}],
                                   timeout=args.timeout)
        if "error" in answer:
            raise LabError(answer["error"])
        print(answer["verdict"])
        return EXIT_OK
    except (LabError, OSError) as exc:
        return state.fail(str(exc))


def write_lines(answers: Iterable[dict[str, Any]], stream: TextIO) -> None:
    stream.writelines(json.dumps(answer) + "\n" for answer in answers)
    stream.flush()
