"""`lab verify W PATH... [--port N/PROTO]... [--external IP]...`: the engine's matrix over PATH next to what the lab's
real dataplane does, for every (source, destination, port).

Sources and destinations are every workload of PATH and every `--external` address (two external addresses are no
cluster traffic and a workload is never its own destination, as in `matrix`). Ports are every port the policies
declare (numeric ports, both ends of a range, named ports resolved against the workloads' containerPorts) plus
`--port` and one port per protocol nobody declared. Each flow is probed once (conntrack flushed first) and compared
with the engine's verdict; a disagreement that a documented kube-router deviation (tenancy/lab/deviations.toml)
recognises is a known deviation, any other one fails.

Cluster-scoped policies (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) are evaluated by
the engine as the API defines them, but kube-router enforces NetworkPolicy only: a flow whose verdict a cluster
policy changes, and where the lab did what the NetworkPolicies alone say, is the known deviation
`cluster-policies-not-enforced`. Every other flow of such manifests is judged as usual.

Exit 0: every flow agrees or is a known deviation; 1: some disagreement is not; 2: cannot run (no lab, unreadable
manifests, a workload without Ready pods in the lab).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kube.endpoints import Endpoint
from tenancy.lab import state, topology
from tenancy.lab.state import LabError

EXIT_OK, EXIT_DISAGREE = 0, 1
DEVIATIONS_FILE = Path(__file__).with_name("deviations.toml")
PROTOCOLS = ("TCP", "UDP", "SCTP")
UNDECLARED_START = {"TCP": 7001, "UDP": 7002, "SCTP": 7003}


@dataclass(frozen=True)
class Deviation:
    id: str
    matcher: str
    engine: str
    lab: str
    enforcer: str
    spec: str
    summary: str


@dataclass
class Outcome:
    source: str
    destination: str
    port: str
    engine: str
    lab: str
    deviation: str = ""

    @property
    def agrees(self) -> bool:
        return self.engine == self.lab

    def line(self) -> str:
        verdict = f"known deviation {self.deviation}" if self.deviation else "DISAGREE"
        return (f"{verdict}: {self.source} -> {self.destination} {self.port}: engine {self.engine}, "
                f"lab {self.lab}")


@dataclass
class Report:
    outcomes: list[Outcome]
    seconds: float

    @property
    def agreeing(self) -> int:
        return sum(1 for o in self.outcomes if o.agrees)

    @property
    def deviations(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.agrees and o.deviation]

    @property
    def disagreements(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.agrees and not o.deviation]

    def summary(self) -> str:
        return f"lab: {self.agreeing}/{len(self.outcomes)} agree, {len(self.deviations)} known deviations"


def load_deviations(path: Path = DEVIATIONS_FILE) -> list[Deviation]:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    return [Deviation(**{k: str(entry.get(k, "")) for k in Deviation.__dataclass_fields__})
            for entry in raw.get("deviation", [])]


def ports_to_probe(cluster: Any, extra: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Every port a policy declares (named ports resolved on the workloads), `extra`, one undeclared per protocol."""
    declared: set[tuple[int, str]] = set()
    specs = [spec for p in cluster.policies for rule in p.ingress + p.egress for spec in rule.ports or ()]
    specs += [spec for cp in cluster.cluster_policies for rule in cp.ingress + cp.egress for spec in rule.ports or ()]
    for spec in specs:
        rng = spec.numeric_range()
        if rng is not None:
            declared.update({(rng[0], spec.protocol), (rng[1], spec.protocol)})
            continue
        for w in cluster.workloads:
            declared.update((cp.port, cp.protocol) for cp in w.ports
                            if cp.name == spec.port and cp.protocol == spec.protocol)
    declared.update(extra)
    for proto in PROTOCOLS:
        port = UNDECLARED_START[proto]
        while (port, proto) in declared:
            port += 1
        declared.add((port, proto))
    return sorted(declared, key=lambda p: (PROTOCOLS.index(p[1]) if p[1] in PROTOCOLS else 9, p[0]))


def kube_router_named_ports(cluster: Any) -> Any:
    """The cluster's NetworkPolicies as kube-router reads an egress rule without `to` that names ports, or None when
    no rule is one: each name becomes the numbers the (non-hostNetwork) pods of the policy's namespace declare for
    it with that protocol, allowed towards every destination, pod or address; a name nobody there declares allows
    nothing, and a rule left without ports writes no iptables rule at all. Cluster policies are left out (kube-router
    reads none)."""
    from analysis.reachability.model import Rule
    from analysis.reachability.ports import PortSpec

    changed = False
    policies = []
    for policy in cluster.policies:
        declared = [cp for w in cluster.workloads if w.namespace == policy.namespace and not w.host_network
                    for cp in w.ports if cp.name]
        rules = []
        for rule in policy.egress:
            if rule.peers is not None or not any(spec.is_named for spec in rule.ports or ()):
                rules.append(rule)
                continue
            changed = True
            ports = [spec for spec in rule.ports if not spec.is_named]
            for spec in rule.ports:
                if spec.is_named:
                    ports += [PortSpec(spec.protocol, number) for number in sorted(
                        {cp.port for cp in declared if cp.name == spec.port and cp.protocol == spec.protocol})]
            if ports:
                rules.append(Rule(None, tuple(ports)))
        policies.append(dataclasses.replace(policy, egress=tuple(rules)))
    return dataclasses.replace(cluster, policies=policies, cluster_policies=[]) if changed else None


def _policy_of_both_types_crosses(engine: Any, cluster: Any, outcome: Outcome, port: tuple[int, str]) -> bool:
    """kube-router jumps from a pod's firewall chain to the chain of a policy of both types (Ingress and Egress)
    selecting the pod for every packet, in either direction, and that chain holds the policy's ingress and egress
    rules alike: when the policy selects both ends of a flow, its egress rules admitting the source also pass the
    destination's ingress check, and its ingress rules admitting the source into the destination also pass the
    source's egress check. The flow is allowed if each side is allowed by the API or by such a crossing rule."""
    if engine is None or Endpoint.parse(outcome.source).is_address or Endpoint.parse(outcome.destination).is_address:
        return False
    verdict = engine.verdict(outcome.source, outcome.destination, port[0], port[1])
    both = {p.ref for p in cluster.policies if p.affects_ingress and p.affects_egress}
    crossing = both & set(verdict.egress.selecting_policies) & set(verdict.ingress.selecting_policies)
    if not crossing:
        return False
    ingress = verdict.ingress.allowed or any(r.policy in crossing for r in verdict.egress.admitting)
    egress = verdict.egress.allowed or any(r.policy in crossing for r in verdict.ingress.admitting)
    return ingress and egress


def classify(outcome: Outcome, port: tuple[int, str], cluster: Any, deviations: list[Deviation],
             namespaced: str | None = None, engine: Any = None, named_ports: str | None = None) -> str:
    """The id of the documented deviation that explains a disagreement, or ''. `namespaced` is the engine's verdict
    on the same manifests without their cluster-scoped policies, `engine` an Engine over those (what kube-router
    reads) for the matchers that need the API's verdict per side, `named_ports` the verdict over
    `kube_router_named_ports(cluster)` (None when that is the cluster itself)."""
    for dev in deviations:
        if dev.matcher == "cluster-policy-decides":
            # Either direction: a cluster policy changed the verdict and the lab did what NetworkPolicy alone says.
            if namespaced is not None and namespaced != outcome.engine and namespaced == outcome.lab:
                return dev.id
            continue
        if dev.matcher == "egress-named-port-without-to":
            # Either direction: kube-router's reading of such rules changes the verdict to what the lab did.
            if named_ports is not None and named_ports != namespaced and named_ports == outcome.lab:
                return dev.id
            continue
        if (dev.engine, dev.lab) != (outcome.engine, outcome.lab):
            continue
        if dev.matcher == "node-source" and outcome.source == f"ip:{topology.NODE_IP}":
            return dev.id
        if dev.matcher == "policy-of-both-types-crosses" and _policy_of_both_types_crosses(engine, cluster, outcome,
                                                                                            port):
            return dev.id
    return ""


def verify(workdir: Path, paths: list[str], ports: list[tuple[int, str]] | None = None,
           externals: list[str] | None = None) -> Report:
    from analysis.reachability import Engine, ManifestError, load_paths
    from analysis.reachability.ipblocks import endpoint_name, parse_address
    from tenancy.lab.probe import Lab

    try:
        cluster = load_paths(paths)
    except ManifestError as exc:
        raise LabError("; ".join(exc.problems)) from None
    if not cluster.workloads:
        raise LabError(f"no workloads in {', '.join(paths)}")
    try:
        ext = [endpoint_name(parse_address(e)) for e in externals or ()]
    except ValueError as exc:
        raise LabError(str(exc)) from None
    engine = Engine(cluster)
    lab = Lab(workdir)
    missing = [w for w in engine.workloads if not lab.pods_of(w)]
    if missing:
        raise LabError(f"no Ready pod in the lab for {', '.join(missing)} (run `tenancy lab apply {workdir} "
                       f"{' '.join(paths)}` first)")
    probed = ports_to_probe(cluster, list(ports or ()))
    matrices = engine.matrix(probed, ext, between_externals=False)
    # What kube-router can enforce: the same manifests without the cluster-scoped policies it never reads.
    np_engine = Engine(dataclasses.replace(cluster, cluster_policies=[])) if cluster.cluster_policies else engine
    namespaced = np_engine.matrix(probed, ext, between_externals=False) if cluster.cluster_policies else matrices
    kube_router = kube_router_named_ports(cluster)
    named = Engine(kube_router).matrix(probed, ext, between_externals=False) if kube_router is not None else None
    requests: list[dict[str, str]] = []
    expected: list[tuple[str, str, str | None, tuple[int, str]]] = []
    for (number, proto), view in matrices.items():
        for src in view:
            row = view[src]
            for dst in row:
                if Endpoint.parse(src).is_address and Endpoint.parse(dst).is_address:
                    continue
                requests.append({"from": src, "to": dst, "port": f"{number}/{proto}"})
                expected.append(("allow" if row[dst] else "deny",
                                 "allow" if namespaced[(number, proto)][src][dst] else "deny",
                                 None if named is None else "allow" if named[(number, proto)][src][dst] else "deny",
                                 (number, proto)))
    started = time.monotonic()
    lab.flush_conntrack()
    answers = lab.probe_batch(requests)
    seconds = time.monotonic() - started
    errors = [a for a in answers if "error" in a]
    if errors:
        first = errors[0]
        raise LabError(f"{len(errors)} flows could not be probed, e.g. {first['from']} -> {first['to']} "
                       f"{first['port']}: {first['error']}")
    deviations = load_deviations()
    outcomes = []
    for answer, (verdict, namespaced_verdict, named_verdict, port) in zip(answers, expected, strict=True):
        outcome = Outcome(answer["from"], answer["to"], answer["port"], verdict, answer["verdict"])
        if not outcome.agrees:
            outcome.deviation = classify(outcome, port, cluster, deviations, namespaced_verdict, np_engine,
                                         named_verdict)
        outcomes.append(outcome)
    return Report(outcomes, seconds)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("verify", help="the engine's matrix next to real probes: every flow compared",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="the manifests applied to the lab")
    parser.add_argument("--port", action="append", default=[], metavar="N/PROTO",
                        help="another port to compare (repeatable)")
    parser.add_argument("--external", action="append", default=[], metavar="IP",
                        help="an outside address, as source and destination (repeatable)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tenancy.lab.probe import parse_port

    try:
        state.require_linux_root()
        ports = [parse_port(p) for p in args.port]
        report = verify(args.workdir, list(args.paths), ports, list(args.external))
    except (LabError, OSError) as exc:
        return state.fail(str(exc))
    for outcome in report.outcomes:
        if not outcome.agrees:
            print(outcome.line())
    n = len(report.outcomes)
    print(report.summary())
    print(f"lab verify: {n} flows probed in {report.seconds:.2f}s ({n / report.seconds if report.seconds else 0:.0f}"
          "/s)", file=sys.stderr)
    return EXIT_DISAGREE if report.disagreements else EXIT_OK
