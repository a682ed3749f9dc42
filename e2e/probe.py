"""Observe a live cluster's NetworkPolicy behaviour and compare it with `tenancy matrix --json`.

    python e2e/probe.py --predicted predicted.json build/dev e2e/monitoring.yaml [--report observed.json]

Tenant images cannot be trusted to carry `nc` (the render's workloads run distroless or scratch images, and a
real pod listens on its serving port only, so a refused connection would look like a dropped one). So for every
workload named in the prediction, two stand-in pods are started beside it: same namespace, exactly the
workload's pod labels and declared container ports (selectors and named ports resolve as for the real pods),
busybox listening on every probed port, non-root so `restricted` Pod Security admits them. Each
(source, destination, port) is then tried from a stand-in of the source to the other stand-in of the destination
with `nc -z`, and every disagreement with the prediction is listed. Exit 0: all agree; 1: mismatches or probe
errors; 2: unusable input.

The stand-ins carry no extra label (an extra label could change what a policy selects). Instead a per-namespace
ConfigMap is their controlling owner: it keeps a Deployment or StatefulSet with the same selector from adopting
(and deleting) them, and deleting it garbage-collects them.

Pure Python (PyYAML only) so the kubectl runner can be replaced by a fake in tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, cast

import yaml

from kube.endpoints import Endpoint

OWNER_NAME = "tenancy-e2e-probe"
PROBE_ANNOTATION = "tenancy.e2e/stand-in-for"
DEFAULT_IMAGE = "busybox:1.36.1"
RC_PREFIX = "probe-rc="
# Stand-ins never need the API server or root; they must pass the tenant namespaces' `restricted` level.
RUN_AS_USER = 65534

TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


# kubectl arguments (without "kubectl"), optional stdin -> result. Tests pass a fake cluster.
Runner = Callable[[list[str], Optional[str]], Result]


def kubectl_runner(args: list[str], stdin: Optional[str] = None) -> Result:
    done = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=300)
    return Result(done.returncode, done.stdout, done.stderr)


class ProbeError(Exception):
    """The cluster could not be probed (as opposed to: it behaved differently from the prediction)."""


class InputError(Exception):
    """The prediction or the manifests are unusable."""


@dataclass(frozen=True)
class RenderedWorkload:
    namespace: str
    name: str
    labels: dict[str, str]
    ports: tuple[dict, ...]

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Case:
    src: str
    dst: str
    port: int
    protocol: str
    expected: bool

    @property
    def label(self) -> str:
        return f"{self.port}/{self.protocol} {self.src} -> {self.dst}"


@dataclass
class Outcome:
    case: Case
    observed: Optional[bool] = None
    attempts: int = 0
    error: Optional[str] = None

    @property
    def mismatch(self) -> bool:
        return self.error is None and self.observed is not None and self.observed != self.case.expected


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.mismatch]

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    def to_json(self) -> dict:
        def row(o: Outcome) -> dict:
            return {"port": f"{o.case.port}/{o.case.protocol}", "src": o.case.src, "dst": o.case.dst,
                    "predicted": o.case.expected, "observed": o.observed, "attempts": o.attempts, "error": o.error}
        return {
            "cases": [row(o) for o in self.outcomes],
            "mismatches": [row(o) for o in self.mismatches],
            "errors": [row(o) for o in self.errors],
            "skipped": list(self.skipped),
        }


# ---------------------------------------------------------------------------------------------- inputs


def _documents(path: Path) -> Iterable[dict]:
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json")) if path.is_dir() else [path]
    for file in files:
        try:
            docs = list(yaml.safe_load_all(file.read_text()))
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"{file}: {exc}") from exc
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "List":
                yield from (item for item in doc.get("items") or [] if isinstance(item, dict))
            elif isinstance(doc, dict):
                yield doc


def _pod_template(obj: dict) -> Optional[dict]:
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    if kind in TEMPLATE_KINDS:
        return (obj.get("spec") or {}).get("template")
    if kind == "CronJob":
        return (((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template")
    return None


def _declared_ports(pod_spec: dict) -> tuple[dict, ...]:
    # Copied so named ports (`metrics`) resolve on the stand-in exactly as on the real pod; host ports dropped.
    seen_numbers: set[tuple[int, str]] = set()
    seen_names: set[str] = set()
    ports = []
    for container in pod_spec.get("containers") or []:
        for port in container.get("ports") or []:
            number, protocol, name = port.get("containerPort"), port.get("protocol", "TCP"), port.get("name")
            if not isinstance(number, int) or (number, protocol) in seen_numbers or (name and name in seen_names):
                continue
            seen_numbers.add((number, protocol))
            entry = {"containerPort": number, "protocol": protocol}
            if name:
                seen_names.add(name)
                entry["name"] = name
            ports.append(entry)
    return tuple(ports)


def load_workloads(paths: Iterable[Path]) -> dict[str, RenderedWorkload]:
    workloads: dict[str, RenderedWorkload] = {}
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        for obj in _documents(path):
            template = _pod_template(obj)
            if template is None:
                continue
            meta = obj.get("metadata") or {}
            namespace, name = meta.get("namespace") or "default", meta.get("name")
            if not name:
                continue
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            workload = RenderedWorkload(namespace, name, labels, _declared_ports(template.get("spec") or {}))
            workloads[workload.key] = workload
    return workloads


def load_prediction(data: dict) -> tuple[list[Case], list[str]]:
    """Cases to probe, and what cannot be probed from inside the cluster (external addresses, non-TCP ports)."""
    if not isinstance(data, dict) or not isinstance(data.get("ports"), dict):
        raise InputError('prediction: expected {"ports": {"<N>/<PROTO>": {src: {dst: bool}}}}')
    cases, skipped = [], []
    for port_key, rows in sorted(data["ports"].items()):
        number, _, protocol = str(port_key).partition("/")
        if not number.isdigit() or not protocol:
            raise InputError(f"prediction: port {port_key!r} is not <N>/<PROTO>")
        for src, row in sorted(rows.items()):
            for dst, allowed in sorted(row.items()):
                case = Case(src, dst, int(number), protocol.upper(), bool(allowed))
                if Endpoint.parse(src).is_address or Endpoint.parse(dst).is_address:
                    skipped.append(f"{case.label}: external address, not observable from inside the cluster")
                elif case.protocol != "TCP":
                    skipped.append(f"{case.label}: only TCP can be probed with nc -z")
                else:
                    cases.append(case)
    return cases, skipped


# ---------------------------------------------------------------------------------------------- stand-ins


def standin_names(workload: RenderedWorkload) -> tuple[str, str]:
    # Deterministic (so a rerun finds leftovers) and short (the pod hostname is cut at 63 characters).
    digest = hashlib.sha1(workload.name.encode()).hexdigest()[:6]
    base = f"probe-{workload.name[:40].rstrip('-')}-{digest}"
    return f"{base}-a", f"{base}-b"


def owner_configmap(namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": OWNER_NAME, "namespace": namespace},
            "data": {"purpose": "controlling owner of the e2e probe stand-in pods; delete to remove them"}}


def standin_pod(workload: RenderedWorkload, name: str, listen_ports: list[int], owner_uid: str, image: str) -> dict:
    ports_args = [str(p) for p in listen_ports]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": workload.namespace,
            "labels": dict(workload.labels),
            "annotations": {PROBE_ANNOTATION: workload.key},
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": OWNER_NAME, "uid": owner_uid,
                                 "controller": True, "blockOwnerDeletion": False}],
        },
        "spec": {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS_USER, "runAsGroup": RUN_AS_USER,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "probe",
                "image": image,
                # One foreground-less httpd per probed port: anything that accepts a TCP connection will do.
                "command": ["sh", "-c", 'for p in "$@"; do httpd -f -p "$p" -h /tmp & done; wait', "listen",
                            *ports_args],
                "ports": [dict(p) for p in workload.ports],
                "readinessProbe": {
                    "exec": {"command": ["sh", "-c", 'for p in "$@"; do nc -z 127.0.0.1 "$p" || exit 1; done',
                                         "ready", *ports_args]},
                    "periodSeconds": 2,
                },
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                              "limits": {"cpu": "100m", "memory": "32Mi"}},
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                    "readOnlyRootFilesystem": True, "runAsNonRoot": True},
            }],
        },
    }


# ---------------------------------------------------------------------------------------------- cluster


class Kubectl:
    def __init__(self, runner: Runner):
        self.runner = runner

    def _run(self, args: list[str], stdin: Optional[str] = None) -> str:
        result = self.runner(args, stdin)
        if result.returncode != 0:
            raise ProbeError(f"kubectl {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def apply(self, obj: dict) -> dict:
        return json.loads(self._run(["apply", "-f", "-", "-o", "json"], json.dumps(obj)))

    def delete_pods(self, namespace: str, names: list[str]) -> None:
        self._run(["delete", "pod", "-n", namespace, "--ignore-not-found", "--wait=true", *names])

    def delete_owner(self, namespace: str) -> None:
        self._run(["delete", "configmap", OWNER_NAME, "-n", namespace, "--ignore-not-found"])

    def wait_ready(self, namespace: str, names: list[str], timeout: str) -> None:
        try:
            self._run(["wait", "--for=condition=Ready", "-n", namespace, f"--timeout={timeout}",
                       *(f"pod/{n}" for n in names)])
        except ProbeError as exc:
            # Say why, not just that it timed out: image pull, admission, scheduling...
            described = self.runner(["describe", "pod", "-n", namespace, *names], None)
            raise ProbeError(f"{exc}\n{described.stdout.strip()}") from exc

    def pod_ips(self, namespace: str, names: list[str]) -> dict[str, str]:
        data = json.loads(self._run(["get", "pod", "-n", namespace, "-o", "json", *names]))
        items = data.get("items", [data]) if data.get("kind") == "List" else [data]
        ips = {item["metadata"]["name"]: (item.get("status") or {}).get("podIP") for item in items}
        missing = [n for n in names if not ips.get(n)]
        if missing:
            raise ProbeError(f"{namespace}: no pod IP for {', '.join(missing)}")
        # Given names, kubectl returns just those pods, and the check above left none of them without an IP.
        return cast(dict[str, str], ips)

    def connects(self, namespace: str, pod: str, ip: str, port: int, timeout: int) -> bool:
        # The echo separates "nc failed" (policy or nothing listening) from "kubectl exec failed".
        result = self.runner(["exec", "-n", namespace, pod, "--", "sh", "-c",
                              f'nc -z -w "$1" "$2" "$3"; echo "{RC_PREFIX}$?"', "probe",
                              str(timeout), ip, str(port)], None)
        for line in result.stdout.splitlines():
            if line.startswith(RC_PREFIX):
                return line[len(RC_PREFIX):].strip() == "0"
        raise ProbeError(f"kubectl exec -n {namespace} {pod}: {result.stderr.strip() or 'no exit status'}")


# ---------------------------------------------------------------------------------------------- probe


def probe(cluster: Kubectl, cases: list[Case], workloads: dict[str, RenderedWorkload], *, image: str = DEFAULT_IMAGE,
          timeout: int = 2, attempts: int = 3, jobs: int = 8, settle: float = 5.0, ready_timeout: str = "180s",
          keep: bool = False, sleep: Callable[[float], None] = time.sleep,
          log: Callable[[str], None] = print) -> Report:
    needed = sorted({c.src for c in cases} | {c.dst for c in cases})
    unknown = [key for key in needed if key not in workloads]
    if unknown:
        raise InputError("prediction names workloads absent from the manifests: " + ", ".join(unknown))
    ports = sorted({c.port for c in cases})
    chosen = [workloads[key] for key in needed]
    namespaces = sorted({w.namespace for w in chosen})

    names = {w.key: standin_names(w) for w in chosen}
    try:
        ips: dict[str, str] = {}
        for namespace in namespaces:
            members = [w for w in chosen if w.namespace == namespace]
            pod_names = [n for w in members for n in names[w.key]]
            cluster.delete_pods(namespace, pod_names)  # leftovers of an interrupted run
            owner_uid = cluster.apply(owner_configmap(namespace))["metadata"]["uid"]
            pods = [standin_pod(w, n, ports, owner_uid, image) for w in members for n in names[w.key]]
            cluster.apply({"apiVersion": "v1", "kind": "List", "items": pods})
            log(f"{namespace}: started {len(pods)} stand-in pods")
        for namespace in namespaces:
            pod_names = [n for w in chosen if w.namespace == namespace for n in names[w.key]]
            cluster.wait_ready(namespace, pod_names, ready_timeout)
            ips.update({f"{namespace}/{pod}": ip for pod, ip in cluster.pod_ips(namespace, pod_names).items()})
        # Give the CNI a moment to put the new pod IPs into the policies' sets before the first probe.
        sleep(settle)

        def run_case(case: Case) -> Outcome:
            src, dst = workloads[case.src], workloads[case.dst]
            client = names[src.key][0]
            target_ip = ips[f"{dst.namespace}/{names[dst.key][1]}"]
            outcome = Outcome(case)
            try:
                # Repeat only while it disagrees: a flow is a mismatch when it disagrees every time.
                while outcome.attempts < attempts:
                    outcome.attempts += 1
                    outcome.observed = cluster.connects(src.namespace, client, target_ip, case.port, timeout)
                    if outcome.observed == case.expected:
                        break
                    if outcome.attempts < attempts:
                        sleep(1.0)
            except ProbeError as exc:
                outcome.error = str(exc)
            return outcome

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            outcomes = list(pool.map(run_case, cases))
        return Report(outcomes=outcomes)
    finally:
        if not keep:
            for namespace in namespaces:
                try:
                    cluster.delete_owner(namespace)
                except ProbeError as exc:
                    log(f"warning: cleanup of {namespace}: {exc}")


def describe(report: Report) -> list[str]:
    lines = []
    for o in report.mismatches:
        said = "allowed" if o.case.expected else "denied"
        saw = "connected" if o.observed else "blocked"
        lines.append(f"MISMATCH {o.case.label}: predicted {said}, observed {saw} ({o.attempts} attempts)")
    for o in report.errors:
        lines.append(f"ERROR {o.case.label}: {o.error}")
    agree = len(report.outcomes) - len(report.mismatches) - len(report.errors)
    lines.append(f"{agree} agree, {len(report.mismatches)} mismatched, {len(report.errors)} errors, "
                 f"{len(report.skipped)} skipped")
    return lines


def main(argv: Optional[list[str]] = None, runner: Runner = kubectl_runner,
         sleep: Callable[[float], None] = time.sleep) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", nargs="+", type=Path, help="files/dirs the prediction was computed from")
    parser.add_argument("--predicted", required=True, type=Path, help="output of `tenancy matrix ... --json`")
    parser.add_argument("--report", type=Path, help="write every observation here as JSON")
    parser.add_argument("--image", default=DEFAULT_IMAGE)
    parser.add_argument("--timeout", type=int, default=2, help="seconds nc waits for a connection")
    parser.add_argument("--attempts", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="leave the stand-in pods running")
    args = parser.parse_args(argv)

    try:
        try:
            prediction = json.loads(args.predicted.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"{args.predicted}: {exc}") from exc
        cases, skipped = load_prediction(prediction)
        if not cases:
            raise InputError(f"{args.predicted}: nothing to probe")
        workloads = load_workloads(args.manifests)
        report = probe(Kubectl(runner), cases, workloads, image=args.image, timeout=args.timeout,
                       attempts=args.attempts, jobs=args.jobs, settle=args.settle, keep=args.keep, sleep=sleep)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ProbeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report.skipped.extend(skipped)
    for line in describe(report):
        print(line)
    if args.report:
        args.report.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return 1 if report.mismatches or report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
