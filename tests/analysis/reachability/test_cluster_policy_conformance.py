"""The upstream ClusterNetworkPolicy conformance tests, replayed against the engine.

Manifests are the suite's own (kubernetes-sigs/network-policy-api v0.3.0 `conformance/base`, copied under
data/network-policy-api-v0.3.0); every probe below is one `PokeServer` call of the named upstream test
(`conformance/tests/*.go`), in order, with the suite's mutations (rule swaps, action and priority changes, a
deleted NetworkPolicy) applied between probes exactly as the Go test does. Pods of one StatefulSet share labels and
ports, so `harry-potter-0` and `harry-potter-1` are both the workload `...-gryffindor/harry-potter` here.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Callable

import pytest
import yaml

from analysis.reachability import Engine, load_objects

DATA = os.path.join(os.path.dirname(__file__), "data", "network-policy-api-v0.3.0")
HOUSES = {"G": ("gryffindor", "harry-potter"), "S": ("slytherin", "draco-malfoy"),
          "H": ("hufflepuff", "cedric-diggory"), "R": ("ravenclaw", "luna-lovegood")}


def endpoint(house: str) -> str:
    ns, workload = HOUSES[house]
    return f"network-policy-conformance-{ns}/{workload}"


def load(name: str) -> list[dict]:
    with open(os.path.join(DATA, name)) as fh:
        return [d for d in yaml.safe_load_all(fh) if d]


Objects = list[dict[str, Any]]
Step = tuple[str, str, str, int, bool] | Callable[[Objects], None]


def find(objs: Objects, kind: str, name: str) -> dict:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def swap(name: str, i: int, j: int) -> Callable[[Objects], None]:
    def mutate(objs: Objects) -> None:
        spec = find(objs, "ClusterNetworkPolicy", name)["spec"]
        for direction in ("egress", "ingress"):
            rules = spec[direction]
            rules[i], rules[j] = rules[j], rules[i]
    return mutate


def set_action(name: str, direction: str, index: int, action: str) -> Callable[[Objects], None]:
    def mutate(objs: Objects) -> None:
        find(objs, "ClusterNetworkPolicy", name)["spec"][direction][index]["action"] = action
    return mutate


def set_priority(name: str, priority: int) -> Callable[[Objects], None]:
    def mutate(objs: Objects) -> None:
        find(objs, "ClusterNetworkPolicy", name)["spec"]["priority"] = priority
    return mutate


def delete(kind: str, name: str) -> Callable[[Objects], None]:
    def mutate(objs: Objects) -> None:
        objs.remove(find(objs, kind, name))
    return mutate


def probes(client: str, server: str, *cases: tuple[str, int, bool]) -> list[Step]:
    return [(client, server, proto, port, want) for proto, port, want in cases]


SIX = (("tcp", 80), ("tcp", 8080), ("udp", 53), ("udp", 5353), ("sctp", 9003), ("sctp", 9005))


def at(*wants: bool) -> tuple[tuple[str, int, bool], ...]:
    """The six probes every gress test makes (tcp 80/8080, udp 53/5353, sctp 9003/9005) with their verdicts."""
    return tuple((proto, port, want) for (proto, port), want in zip(SIX, wants))


GRESS_ALLOW_AND_DENY: list[Step] = [
    # "Should support an 'allow-gress' policy across different protocols"
    *probes("G", "R", ("tcp", 80, True), ("udp", 53, True), ("sctp", 9003, True)),
    *probes("R", "G", ("tcp", 80, True), ("udp", 53, True), ("sctp", 9003, True)),
    # "... at the specified ports"
    *probes("G", "H", *at(False, True, False, True, True, False)),
    *probes("H", "G", *at(True, False, False, True, True, False)),
]


def gress_swap_deny(name: str) -> list[Step]:
    return [
        # "Should support an 'deny-gress' policy across different protocols": swap rules 0 and 1
        swap(name, 0, 1),
        *probes("G", "R", ("tcp", 80, False), ("udp", 53, False), ("sctp", 9003, False)),
        *probes("R", "G", ("tcp", 80, False), ("udp", 53, False), ("sctp", 9003, False)),
        # "Should support a 'deny-gress' policy across different protocols at the specified ports"
        *probes("G", "S", *at(False, True, False, True, False, True)),
        *probes("S", "G", *at(False, True, False, True, False, True)),
    ]


SAME_PRIORITY: list[Step] = [
    *probes("S", "G", ("tcp", 80, False)), *probes("G", "S", ("tcp", 80, False)),
    *probes("H", "G", ("tcp", 80, False)), *probes("G", "H", ("tcp", 80, False)),
    *probes("S", "H", ("tcp", 8080, False)), *probes("H", "S", ("tcp", 8080, False)),
    # one same-priority policy's rules do not bleed onto another's subject
    *probes("S", "G", ("tcp", 8080, True)), *probes("G", "S", ("tcp", 8080, True)),
    *probes("S", "H", ("tcp", 80, True)), *probes("H", "S", ("tcp", 80, True)),
    # traffic matching no policy
    *probes("R", "G", ("tcp", 80, True)), *probes("G", "R", ("tcp", 80, True)),
]

PORT_RANGE: list[Step] = [
    # "Should support egress port range rules across different protocols"
    *probes("G", "R", ("tcp", 80, True), ("tcp", 8080, True), ("udp", 53, False)),
    *probes("G", "H", ("udp", 53, True), ("udp", 5353, True), ("tcp", 80, False)),
    *probes("G", "S", ("sctp", 9003, True), ("sctp", 9005, True), ("tcp", 80, False)),
    # "Should support ingress port range rules across different protocols"
    *probes("R", "G", ("tcp", 80, True), ("tcp", 8080, True), ("udp", 53, False)),
    *probes("H", "G", ("udp", 53, True), ("udp", 5353, True), ("tcp", 80, False)),
    *probes("S", "G", ("sctp", 9003, True), ("sctp", 9005, True), ("tcp", 80, False)),
]

CASES: dict[str, tuple[str, list[Step]]] = {
    "CNPAdminTierIntegration": ("api_integration/standard-anp-np-banp.yaml", [
        *probes("S", "G", ("tcp", 80, False), ("tcp", 8080, False)),
        *probes("G", "S", ("tcp", 80, False), ("tcp", 8080, False)),
        # 'pass-ingress' -> the NetworkPolicy allowing slytherin decides
        set_action("pass-example", "ingress", 0, "Pass"),
        *probes("S", "G", ("tcp", 80, True), ("tcp", 8080, True)),
        set_action("pass-example", "egress", 0, "Pass"),
        *probes("G", "S", ("tcp", 80, True), ("tcp", 8080, True)),
        # the NetworkPolicy deleted -> the Baseline tier's Deny decides
        delete("NetworkPolicy", "allow-gress-from-to-slytherin-to-gryffindor"),
        *probes("S", "G", ("tcp", 80, False), ("tcp", 8080, False)),
        *probes("G", "S", ("tcp", 80, False), ("tcp", 8080, False)),
    ]),
    "CNPAdminTierPriorityField": ("admin_tier/standard-priority-field.yaml", [
        *probes("S", "G", ("tcp", 80, False), ("tcp", 8080, False)),
        *probes("G", "S", ("tcp", 80, False), ("tcp", 8080, False)),
        set_priority("old-priority-60-new-priority-40-example", 40),
        *probes("S", "G", ("tcp", 80, True), ("tcp", 8080, True)),
        *probes("G", "S", ("tcp", 80, True), ("tcp", 8080, True)),
    ]),
    "CNPAdminTierGressRules": ("admin_tier/standard-gress-rules-combined.yaml", [
        *GRESS_ALLOW_AND_DENY,
        *gress_swap_deny("gress-rules"),
        # "Should support an 'pass-gress' policy across different protocols": swap rules 0 and 2
        swap("gress-rules", 0, 2),
        *probes("G", "R", ("tcp", 80, True), ("udp", 5353, True), ("sctp", 9003, True)),
        *probes("R", "G", ("tcp", 80, True), ("udp", 53, True), ("sctp", 9003, True)),
        # "... at the specified ports": swap rules 3 and 4
        swap("gress-rules", 3, 4),
        *probes("G", "S", *at(True, True, True, True, True, True)),
        *probes("S", "G", *at(True, True, True, True, True, True)),
    ]),
    "CNPBaselineTierGressRules": ("baseline_tier/standard-gress-rules-combined.yaml", [
        *GRESS_ALLOW_AND_DENY,
        *gress_swap_deny("default"),
    ]),
    "CNPAdminTierSamePriority": ("admin_tier/standard-same-priority.yaml", SAME_PRIORITY),
    "CNPBaselineTierSamePriority": ("baseline_tier/standard-same-priority.yaml", SAME_PRIORITY),
    "CNPAdminTierPortRange": ("admin_tier/standard-port-range-rules-combined.yaml", PORT_RANGE),
    "CNPBaselineTierPortRange": ("baseline_tier/standard-port-range-rules-combined.yaml", PORT_RANGE),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_upstream_conformance(name):
    manifest, steps = CASES[name]
    objs = load("manifests.yaml") + load(manifest)
    engine = Engine(load_objects(copy.deepcopy(objs)))
    assert engine.cluster_policies, "the manifest's cluster policies were read"
    for i, step in enumerate(steps):
        if callable(step):
            step(objs)
            engine = Engine(load_objects(copy.deepcopy(objs)))
            continue
        client, server, proto, port, want = step
        src, dst = endpoint(client), endpoint(server)
        v = engine.verdict(src, dst, port, proto.upper())
        matrix = engine.matrix([(port, proto.upper())])[(port, proto.upper())]
        assert (v.allowed, matrix[src][dst]) == (want, want), (name, i, client, server, proto, port)
        assert ((port, proto.upper()) in engine.allowed_ports(src, dst)) == want, (name, i, client, server)
