"""Issue 13's done-when on the dev render: a tenant plants an allow-all NetworkPolicy and deletes its namespace's
default-deny. With dev's admin-tier and baseline-tier ClusterNetworkPolicies, every invariant about flows that
cross a namespace boundary still holds and `tenant-authored-widening` names the attempt and the admin rule that
stops it; with `adminPolicies: none` the same plant breaks those invariants.

What the admin tier cannot keep, asserted here rather than hidden: ingress from external addresses (neither
ClusterNetworkPolicy v1alpha2 nor AdminNetworkPolicy v1alpha1 has an address peer for ingress; see
kube/crds/) and flows within the tenant's own namespace (left to the tenant's NetworkPolicies by design). The
checks keep reporting those, naming admission control as the remedy."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from analysis.checks.invariants import Violation, check
from analysis.checks.invariants.rules import EXTERNAL_INGRESS_UNSTOPPABLE, SAME_NAMESPACE_UNSTOPPABLE
from kube.customresources import is_custom_resource
from stackconfig import StackConfig, parse_config, read_stack_file

from tests.analysis.checks.admin_tier import FLOW_GAPS, KEPT, TEXT_RULES
from tests.paths import REPO_ROOT

ALLOW_ALL = {"podSelector": {}, "ingress": [{}], "egress": [{}], "policyTypes": ["Ingress", "Egress"]}
PLANTS = [("acme",), ("globex",), ("acme", "globex")]


def planted(manifests: list[dict[str, Any]], namespaces: tuple[str, ...]) -> list[dict[str, Any]]:
    """`manifests` with each namespace's default-deny deleted and an allow-all NetworkPolicy added to it."""
    kept = [copy.deepcopy(m) for m in manifests
            if not (m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "default-deny"
                    and m["metadata"]["namespace"] in namespaces)]
    assert len(kept) == len(manifests) - len(namespaces)
    return kept + [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "allow-all", "namespace": ns}, "spec": copy.deepcopy(ALLOW_ALL)}
                   for ns in namespaces]


def dev_config(admin_policies: str) -> StackConfig:
    values = read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()
    values["cluster"] = {**values["cluster"], "adminPolicies": admin_policies}
    return parse_config(values).config


def rules_of(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def endpoints(v: Violation) -> tuple[str, str]:
    s, d = v.subject.split(" -> ")
    return s, d


def test_dev_renders_its_cluster_policies_and_checks_clean(dev) -> None:
    assert dev.parsed.config.cluster.admin_policy_api == "ClusterNetworkPolicy"
    assert any(m["kind"] == "ClusterNetworkPolicy" for m in dev.manifests())
    assert check(dev.manifests(), dev.parsed.config) == []


@pytest.mark.parametrize("namespaces", PLANTS, ids="+".join)
def test_with_admin_policies_a_planted_allow_all_keeps_the_cross_namespace_invariants(dev, namespaces) -> None:
    notes: list[str] = []
    found = check(planted(dev.manifests(), namespaces), dev.parsed.config, notes=notes)

    assert rules_of(found) <= {*FLOW_GAPS, *TEXT_RULES, "tenant-authored-widening"}
    assert not rules_of(found) & set(KEPT)
    # What still breaks is external ingress or a flow inside the planted namespace, nothing else.
    for v in found:
        if v.rule in FLOW_GAPS:
            src, dst = endpoints(v)
            assert src.startswith("ip:") or src.split("/")[0] == dst.split("/")[0], v
            assert dst.split("/")[0] in namespaces, v
    widenings = [v for v in found if v.rule == "tenant-authored-widening"]
    assert sorted(v.subject for v in widenings) == [f"NetworkPolicy {ns}/allow-all" for ns in namespaces]
    for v in widenings:
        assert v.why.endswith(f"; {EXTERNAL_INGRESS_UNSTOPPABLE}; {SAME_NAMESPACE_UNSTOPPABLE}"), v

    # The attempt and the admin rules that stop it: one note per planted policy, naming its tenant's boundary.
    assert len(notes) == len(namespaces)
    for ns, note in zip(sorted(namespaces), notes):
        assert note.startswith(f"tenant-authored-widening NetworkPolicy {ns}/allow-all: tried to open "), note
        # Flows between two planted namespaces are stopped by either end's boundary.
        boundaries = "|".join(re.escape(f"tenancy-boundary.{n}") for n in namespaces)
        stopped = rf"; stopped by ClusterNetworkPolicy/({boundaries}) \(Admin tier, priority 110\) "
        assert re.search(stopped + r"(egress|ingress) rule \d+ '(deny-[a-z-]+)': Deny ", note), note
    if namespaces == ("acme",):  # the egress to the internet the allow-all tried, and the boundary rule denying it
        assert "acme/shop-backend -> ip:192.0.2.10 on all" in notes[0]
        assert "'deny-outside-cluster': Deny to[0] networks 0.0.0.0/0, ::/0; any port" in notes[0]


@pytest.mark.parametrize("namespaces", PLANTS, ids="+".join)
def test_without_admin_policies_the_same_plant_breaks_them(dev, namespaces) -> None:
    config = dev_config("none")
    assert config.cluster.admin_policy_api == "none"
    manifests = [m for m in dev.manifests() if not is_custom_resource(m)]
    assert check(manifests, config) == []
    notes: list[str] = []
    found = check(planted(manifests, namespaces), config, notes=notes)

    broken = {"monitoring-metrics-only", "egress-via-proxy"}
    if len(namespaces) > 1:  # both ends open: the tenants reach each other
        broken.add("cross-tenant-flow")
    assert rules_of(found) & set(KEPT) == broken
    assert notes == []  # nothing stops anything: no attempt is a mere attempt
    assert not any(EXTERNAL_INGRESS_UNSTOPPABLE in v.why for v in found)
