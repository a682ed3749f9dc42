"""The engine's conformance truth tables (tests/analysis/reachability/conformance_cases.py) with real packets: the
x, y, z / a, b, c cluster on a lab of this module's own, each case's policies applied in turn, kube-router enforcing
them, and `lab verify` comparing the engine with the dataplane on every flow - TCP, UDP and SCTP, named ports,
endPort, ipBlock with except, policy types, selectors.

The engine tests say what the API demands of each case; this module says the dataplane does the same (or differs
only where tenancy/lab/deviations.toml documents kube-router departing from the API). Ports are what verify picks
(every declared port, named ports resolved, one undeclared per protocol) plus the ports just outside each numeric
port or range, so that an off-by-one in either is seen.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tenancy.lab import apply as lab_apply
from tenancy.lab import down, netns, topology, up, verify
from tenancy.lab.state import LabState
from tests.analysis.reachability.conformance_cases import CASES, Case
from tests.analysis.reachability.helpers import base_objects, netpol, ns_obj, pod_obj

# Cases that cannot be made meaningful on the lab, with the reason.
EXCLUDED = {
    name: (
        "its ipBlock 10.0.0.0/8 holds the lab's pod range (topology.POD_CIDR 10.244.0.0/22). kube-router matches an "
        "ipBlock by address, so every pod of x, y and z is admitted into x/a; the engine holds that pod-to-pod "
        "traffic never matches an ipBlock, because pod IPs are not in manifests (docs/design.md, README 'Choices "
        "worth knowing'; it reads status.podIP only for hostNetwork pods, and the base objects carry none). Which "
        "is right is not the API's to say: the concepts page asks for cluster-external ipBlocks (\"Pod IPs are "
        "ephemeral and unpredictable\"). The outside addresses alone cannot be compared: verify judges every flow."
    )
    for name in ("ip-block-with-except-on-ingress", "ip-in-one-policys-except-allowed-by-another")
}

# Outside addresses, as sources and destinations: for an ipBlock case, addresses inside its CIDRs, inside their
# excepts and outside both (the lab has no IPv6, so an IPv6 block is seen only not to admit an IPv4 address); every
# other case gets one, so that selector peers are seen never to admit an outside host.
EXTERNALS: dict[str, tuple[str, ...]] = {
    "ip-block-on-egress-carves-cluster-ranges": ("8.8.8.8", "10.9.9.9", "192.168.1.1", "192.169.0.1"),
    "ip-block-ipv6-does-not-match-ipv4": ("1.2.3.4", "203.0.113.5"),
    "named-port-on-egress": ("8.8.8.8",),
}
DEFAULT_EXTERNALS = ("1.2.3.4",)

# The documented kube-router deviations a case is known to show (any other one fails the case).
KNOWN_DEVIATIONS: dict[str, set[str]] = {
    # x/a's egress rule without `to` allows serve-81-tcp: kube-router resolves the name among x's pods (81) and
    # allows 81/TCP towards every destination, ip:8.8.8.8 too (an address has no named ports).
    "named-port-on-egress": {"egress-named-port-without-to"},
    # x/allow-all-egress is of both types (egress given, policyTypes defaulted) and selects all of x: its `egress:
    # [{}]` also passes the ingress check of x's pods for traffic from x's pods.
    "allow-all-egress-with-default-types": {"policy-of-both-types-crosses-directions"},
}

# Cases whose policies open everything they isolate: the engine allows every flow, so a lab that enforced none of
# their policies would agree too; that kube-router programmed each of them is checked instead (for every case).
ALL_ALLOWED = {"rule-without-from", "rule-with-empty-from", "allow-all-ingress-beats-deny",
               "allow-all-egress-beats-deny"}

LAB_CASES = [name for name in CASES if name not in EXCLUDED]


def edge_ports(case: Case) -> list[tuple[int, str]]:
    """The ports just below and above each numeric port or range of the case's policies."""
    out: set[tuple[int, str]] = set()
    for policy in case.policies:
        spec = policy["spec"]
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for port in rule.get("ports") or []:
                number = port.get("port")
                if isinstance(number, int):
                    proto = port.get("protocol", "TCP")
                    out.update({(number - 1, proto), (port.get("endPort", number) + 1, proto)})
    return sorted(out)


@pytest.fixture(scope="module")
def conformance_lab(tmp_path_factory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("conformance") / "lab"
    try:
        up.up(workdir, up.binaries())
        lab_apply.apply(workdir, base_objects())
        yield workdir
    finally:
        down.teardown(workdir)


def _sync(workdir: Path, kubectl: lab_apply.Kubectl) -> None:
    """Wait for a kube-router sync that started after every change so far (`lab apply`'s sync marker)."""
    lab_apply.sync_dataplane(workdir, LabState.load(workdir), kubectl, time.monotonic() + 120)


def _rules(workdir: Path) -> str:
    """The node's filter table; iptables-nft can fail to read it while kube-router restores it (as it does again
    right after `_sync`, for the marker `lab apply` deletes), so a failed read is tried again."""
    node = LabState.load(workdir).node_netns
    for _ in range(20):
        saved = netns.run(["iptables-save", "-t", "filter"], netns=node, check=False)
        if saved.returncode == 0:
            return saved.stdout
        time.sleep(0.2)
    raise AssertionError(f"iptables-save keeps failing: {saved.stderr.strip()}")


def _apply(workdir: Path, case: Case) -> None:
    if case.extra:  # pods (and a namespace): `lab apply` orders them and waits for the pods to be Ready
        lab_apply.apply(workdir, [*case.extra, *case.policies])
        return
    # Policies only, in the base namespaces: `lab apply` minus its namespace and readiness waits (half a second a
    # case), then the same wait for kube-router.
    kubectl = lab_apply.Kubectl(LabState.load(workdir))
    kubectl.apply(case.policies)
    _sync(workdir, kubectl)


def _remove(workdir: Path, case: Case) -> None:
    """Delete the case's policies and extra objects, and wait for kube-router to program what is left."""
    kubectl = lab_apply.Kubectl(LabState.load(workdir))
    groups: dict[tuple[str, str], list[str]] = {}  # (kind, namespace) -> names, in order: policies, pods, namespaces
    for obj in [*case.policies, *sorted(case.extra, key=lambda o: o["kind"] == "Namespace")]:
        groups.setdefault((obj["kind"].lower(), obj["metadata"].get("namespace", "")), []).append(
            obj["metadata"]["name"])
    for (kind, namespace), names in groups.items():
        where = ["-n", namespace] if namespace else []
        # A namespace goes away in the background (its pods were deleted just before).
        wait = "--wait=false" if kind == "namespace" else "--wait=true"
        kubectl("delete", kind, *where, *names, "--ignore-not-found", wait)
    _sync(workdir, kubectl)


def test_excluded_and_special_cases_are_cases():
    assert set(EXCLUDED) | set(EXTERNALS) | set(KNOWN_DEVIATIONS) | ALL_ALLOWED <= set(CASES)
    assert not set(EXCLUDED) & (set(EXTERNALS) | set(KNOWN_DEVIATIONS))
    assert all(ip not in topology.POD_CIDR for ips in EXTERNALS.values() for ip in map(_ipv4, ips))
    known = {d.id for d in verify.load_deviations() if d.matcher}
    assert set().union(*KNOWN_DEVIATIONS.values()) <= known
    # Two numeric ranges: 80-81/TCP and a single 81/UDP.
    assert edge_ports(CASES["numeric-port-and-end-port"]) == [(79, "TCP"), (82, "TCP")]
    assert edge_ports(CASES["udp-rule-does-not-open-tcp"]) == [(80, "UDP"), (82, "UDP")]
    assert edge_ports(CASES["named-port-per-protocol"]) == []


def _ipv4(text: str):
    import ipaddress

    return ipaddress.IPv4Address(text)


def _classify(objects: list[dict], source: str, destination: str, port: tuple[int, str], engine: str,
              lab: str) -> str:
    """What verify.classify says of a disagreement on `objects` (no cluster policies among them)."""
    from analysis.reachability import Engine, load_objects

    cluster = load_objects(objects)
    kube_router = verify.kube_router_named_ports(cluster)
    named = None
    if kube_router is not None:
        named = "allow" if Engine(kube_router).verdict(source, destination, *port).allowed else "deny"
    outcome = verify.Outcome(source, destination, f"{port[0]}/{port[1]}", engine, lab)
    return verify.classify(outcome, port, cluster, verify.load_deviations(), engine, Engine(cluster), named)


def test_a_policy_of_both_types_crossing_directions_is_recognised():
    objects = CASES["allow-all-egress-with-default-types"].objects()
    assert _classify(objects, "x/a", "x/b", (7001, "TCP"), "deny", "allow") == \
        "policy-of-both-types-crosses-directions"
    # y/a is not selected by x/allow-all-egress: nothing of kube-router's explains x/b admitting it.
    assert _classify(objects, "y/a", "x/b", (7001, "TCP"), "deny", "allow") == ""
    assert _classify(objects, "x/a", "x/b", (7001, "TCP"), "allow", "deny") == ""
    # A policy of both types without rules admits nothing either way.
    assert _classify(CASES["default-deny-all-both-directions"].objects(), "x/a", "x/b", (80, "TCP"), "deny",
                     "allow") == ""
    # The other way round: an ingress rule of such a policy lets x/a out towards x/b, which it selects too.
    ingress_only_rules = base_objects() + [netpol("x", "in-all", {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}]})]
    assert _classify(ingress_only_rules, "x/a", "x/b", (80, "TCP"), "deny", "allow") == \
        "policy-of-both-types-crosses-directions"
    assert _classify(ingress_only_rules, "x/a", "y/b", (80, "TCP"), "deny", "allow") == ""


def test_egress_named_ports_without_to_are_read_as_kube_router_does():
    objects = CASES["named-port-on-egress"].objects()
    # serve-81-tcp is 81 on x's pods, so kube-router allows 81/TCP out of x/a to anything, an address too ...
    assert _classify(objects, "x/a", "ip:8.8.8.8", (81, "TCP"), "deny", "allow") == "egress-named-port-without-to"
    # ... but no other port.
    assert _classify(objects, "x/a", "ip:8.8.8.8", (80, "TCP"), "deny", "allow") == ""
    # A name nobody in x declares allows nothing, wherever the destination declares it.
    other = base_objects() + [
        ns_obj("w"), pod_obj("w", "web", ports=[("http", 8080, "TCP")]),
        netpol("x", "egress-http", {"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
                                    "egress": [{"ports": [{"port": "http"}]}]})]
    assert _classify(other, "x/a", "w/web", (8080, "TCP"), "allow", "deny") == "egress-named-port-without-to"
    assert _classify(other, "x/a", "w/web", (8080, "TCP"), "deny", "allow") == ""


def test_probing_leaves_no_namespace_pinned(conformance_lab):
    """A descriptor of a pod's namespace kept by the prober keeps the namespace (and its veth) alive after the pod
    is gone: the node agent could not give its index to the next pod."""
    import os

    from tenancy.lab.probe import Lab

    lab = Lab(conformance_lab)
    [answer] = lab.probe_batch([{"from": "x/a", "to": "x/b", "port": "80/TCP"}])
    assert answer["verdict"] == "allow", answer
    pinned = {(st.st_dev, st.st_ino) for st in (os.stat(netns.NETNS_DIR / p["netns"]) for p in lab.pods_of("x/a"))}
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            st = os.stat(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        held.add((st.st_dev, st.st_ino))
    assert not pinned & held


@pytest.mark.parametrize("name", LAB_CASES)
def test_case_verifies_flow_by_flow(conformance_lab, name, tmp_path):
    case = CASES[name]
    (tmp_path / "base.yaml").write_text(yaml.safe_dump_all(base_objects(), sort_keys=False))
    (tmp_path / "case.yaml").write_text(yaml.safe_dump_all([*case.extra, *case.policies], sort_keys=False))
    try:
        _apply(conformance_lab, case)
        rules = _rules(conformance_lab)
        report = verify.verify(conformance_lab, [str(tmp_path)], edge_ports(case),
                               list(EXTERNALS.get(name, DEFAULT_EXTERNALS)))
    finally:
        _remove(conformance_lab, case)
    # kube-router jumps from the firewall chain of each pod a policy selects to that policy's chain.
    assert all(f"run through nw policy {p['metadata']['name']}\"" in rules for p in case.policies), name
    print(f"{name}: {report.summary()}, {len(report.outcomes)} flows probed in {report.seconds:.1f}s")
    assert not report.disagreements, [o.line() for o in report.disagreements[:8]]
    assert {o.deviation for o in report.deviations} == KNOWN_DEVIATIONS.get(name, set()), \
        [o.line() for o in report.deviations[:8]]
    # Every other case isolates something and leaves something open: both verdicts are seen, by engine and lab.
    verdicts = {"allow"} if name in ALL_ALLOWED else {"allow", "deny"}
    assert {o.engine for o in report.outcomes} == verdicts
    assert {o.lab for o in report.outcomes} == verdicts
    externals = {f"ip:{a}" for a in EXTERNALS.get(name, DEFAULT_EXTERNALS)}
    assert externals <= {o.source for o in report.outcomes} | {o.destination for o in report.outcomes}
