"""Issue 13's done-when on the dev render: a tenant plants an allow-all NetworkPolicy (and deletes its namespace's
default-deny).

- As a proposal (a manifest not yet applied), dev's admission policy refuses it to tenants: `check` stays clean
  and `tenant-authored-widening` notes the refused attempt.
- As an object already in the cluster (created before the admission policy, or by someone who may write cluster
  policies), dev's admin-tier and baseline-tier ClusterNetworkPolicies keep every invariant about flows that cross
  a namespace boundary, and `tenant-authored-widening` names the attempt and the admin rule that stops it. What
  the admin tier cannot keep is asserted rather than hidden: ingress from external addresses (neither
  ClusterNetworkPolicy v1alpha2 nor AdminNetworkPolicy v1alpha1 has an address peer for ingress; see kube/crds/)
  and flows within the tenant's own namespace (left to the tenant's NetworkPolicies by design).
- Below Kubernetes 1.30 (no ValidatingAdmissionPolicy v1) nothing refuses the proposal: the same account holds.
- With `adminPolicies: none` the same plant breaks the cross-namespace invariants."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from analysis.checks.invariants import Violation, check
from analysis.checks.invariants.rules import EXTERNAL_INGRESS_UNSTOPPABLE, SAME_NAMESPACE_UNSTOPPABLE
from kube.customresources import is_custom_resource
from specs.plan import stack_objects
from stackconfig import StackConfig, parse_config, read_stack_file

from tests.analysis.checks.admin_tier import FLOW_GAPS, KEPT, TEXT_RULES
from tests.paths import REPO_ROOT

ALLOW_ALL = {"podSelector": {}, "ingress": [{}], "egress": [{}], "policyTypes": ["Ingress", "Egress"]}
PLANTS = [("acme",), ("globex",), ("acme", "globex")]


# What the API server sets on every object it stores: the plant was read from a cluster.
STORED = {"uid": "6f1c2a9e-0000-4000-8000-000000000001", "resourceVersion": "4711",
          "creationTimestamp": "2026-11-30T10:00:00Z"}


def planted(manifests: list[dict[str, Any]], namespaces: tuple[str, ...], stored: bool = True,
            delete: bool = True) -> list[dict[str, Any]]:
    """`manifests` with each namespace's default-deny deleted and an allow-all NetworkPolicy added to it; `stored`:
    the plant as read from a cluster, else a manifest yet to be applied."""
    kept = [copy.deepcopy(m) for m in manifests
            if not (m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "default-deny"
                    and m["metadata"]["namespace"] in namespaces and delete)]
    assert len(kept) == len(manifests) - len(namespaces) * delete
    return kept + [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "allow-all", "namespace": ns, **(STORED if stored else {})},
                    "spec": copy.deepcopy(ALLOW_ALL)}
                   for ns in namespaces]


def without_admission(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in manifests if not m["kind"].startswith("ValidatingAdmissionPolicy")]


def dev_config(admin_policies: str, kubernetes_version: str = "1.32") -> StackConfig:
    values = read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()
    values["cluster"] = {**values["cluster"], "adminPolicies": admin_policies, "kubernetesVersion": kubernetes_version}
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
def test_a_proposed_allow_all_is_refused_at_admission_and_check_stays_clean(dev, namespaces) -> None:
    assert {m["kind"] for m in dev.manifests() if m["kind"].startswith("Validating")} == {
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
    notes: list[str] = []
    assert check(planted(dev.manifests(), namespaces, stored=False, delete=False), dev.parsed.config,
                 notes=notes) == []
    assert notes == [f"tenant-authored-widening NetworkPolicy {ns}/allow-all: refused at admission to tenants by "
                     f"ValidatingAdmissionPolicy/tenancy-tenant-ingress validations[0]: a tenant's NetworkPolicy may "
                     "not have an ingress rule without sources (no `from`, or an empty one): it admits every "
                     "address, outside the cluster included. Name the pods or namespaces it admits; ingress from "
                     "addresses is the platform's (the load balancer's sourceRanges); left out of the verdicts, "
                     "since a tenant cannot apply it" for ns in sorted(namespaces)]
    # Deleting default-deny on top changes no flow: only the rule about the namespace's own objects speaks.
    found = check(planted(dev.manifests(), namespaces, stored=False), dev.parsed.config)
    assert [(v.rule, v.subject) for v in found] == [("tenant-default-deny", f"Namespace {ns}")
                                                     for ns in sorted(namespaces)]


@pytest.mark.parametrize("namespaces", PLANTS, ids="+".join)
def test_an_allow_all_in_the_cluster_keeps_the_cross_namespace_invariants(dev, namespaces) -> None:
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
        assert f"; {EXTERNAL_INGRESS_UNSTOPPABLE}; {SAME_NAMESPACE_UNSTOPPABLE}; admission refuses it to tenants " \
               "(ValidatingAdmissionPolicy/tenancy-tenant-ingress validations[0]: " in v.why, v
        assert v.why.endswith(": it was created before that policy or by someone who may write cluster policies"), v

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


def test_below_kubernetes_1_30_nothing_refuses_the_proposal(dev) -> None:
    config = dev_config("ClusterNetworkPolicy", kubernetes_version="1.29")
    manifests = without_admission(dev.manifests())
    assert [m for m in stack_objects(config) if m["kind"].startswith("Validating")] == []
    assert check(manifests, config) == []
    proposed = check(planted(manifests, ("acme",), stored=False), config)
    stored = check(planted(manifests, ("acme",)), config)
    assert proposed and [str(v) for v in proposed] == [str(v) for v in stored]
    widening = next(v for v in proposed if v.rule == "tenant-authored-widening")
    assert widening.why.endswith(f"; {EXTERNAL_INGRESS_UNSTOPPABLE}; {SAME_NAMESPACE_UNSTOPPABLE}"), widening


@pytest.mark.parametrize("namespaces", PLANTS, ids="+".join)
def test_without_admin_policies_the_same_plant_breaks_them(dev, namespaces) -> None:
    config = dev_config("none")
    assert config.cluster.admin_policy_api == "none"
    manifests = [m for m in without_admission(dev.manifests()) if not is_custom_resource(m)]
    assert check(manifests, config) == []
    notes: list[str] = []
    found = check(planted(manifests, namespaces), config, notes=notes)

    broken = {"monitoring-metrics-only", "egress-via-proxy"}
    if len(namespaces) > 1:  # both ends open: the tenants reach each other
        broken.add("cross-tenant-flow")
    assert rules_of(found) & set(KEPT) == broken
    assert notes == []  # nothing stops anything: no attempt is a mere attempt
    assert not any(EXTERNAL_INGRESS_UNSTOPPABLE in v.why for v in found)
