"""The review marks a change to a cluster policy (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy)
as such: cluster-scoped, it outranks or backs every namespace's NetworkPolicies, whatever flows the diff lists."""

from __future__ import annotations

import copy

from analysis.reachability import load_objects
from analysis.review import CLUSTER_POLICY, headline, review_markdown, review_clusters

GROUP = "policy.networking.k8s.io"


def namespace(name: str) -> list[dict]:
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"tenancy/tenant": name}}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "namespace": name},
             "spec": {"template": {"metadata": {"labels": {"app": "app"}},
                                   "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]}}}}]


BASE = namespace("acme") + namespace("globex")
BOUNDARY = {
    "apiVersion": f"{GROUP}/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "boundary"},
    "spec": {"tier": "Admin", "priority": 10, "subject": {"namespaces": {"matchLabels": {"tenancy/tenant": "acme"}}},
             "ingress": [{"name": "other-tenants", "action": "Deny",
                          "from": [{"namespaces": {"matchLabels": {"tenancy/tenant": "globex"}}}]}]},
}


def test_an_added_cluster_policy_is_marked_with_its_tier_and_priority():
    r = review_clusters(load_objects(BASE), load_objects(BASE + [BOUNDARY]), "dev")
    assert [(w.kind, w.subject) for w in r.warnings()] == [(CLUSTER_POLICY, "ClusterNetworkPolicy boundary")]
    assert r.warnings()[0].message == (
        "cluster policy ClusterNetworkPolicy/boundary added (Admin tier, priority 10: decides cluster-wide, before "
        "every namespace's NetworkPolicies, which cannot override it)")
    assert [(c.src, c.dst) for c in r.diff.lost] == [("globex/app", "acme/app")]
    assert headline(r) == ("dev: +1 resource, -0 removed, ~0 changed, 0 flows opened, 1 closed, 0 cross-tenant, "
                           "1 cluster policy changed")
    assert "cluster policy ClusterNetworkPolicy/boundary added" in review_markdown(r)


def test_a_changed_tier_or_priority_says_what_it_was():
    moved = copy.deepcopy(BOUNDARY)
    moved["spec"].update(tier="Baseline", priority=20)
    r = review_clusters(load_objects(BASE + [BOUNDARY]), load_objects(BASE + [moved]), "dev")
    assert [w.message for w in r.warnings() if w.kind == CLUSTER_POLICY] == [
        "cluster policy ClusterNetworkPolicy/boundary changed (Baseline tier, priority 20: decides cluster-wide, for "
        "pods no NetworkPolicy selects, after the Admin tier; was Admin tier, priority 10)"]


def test_a_removed_cluster_policy_is_marked_and_namespace_policies_are_not():
    netpol = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny", "namespace": "acme"}, "spec": {"podSelector": {}}}
    r = review_clusters(load_objects(BASE + [BOUNDARY, netpol]), load_objects(BASE), "dev")
    # The removed namespace policy is no cluster policy; that it isolated acme (and that an arbitrary internet
    # address now gets in) are warnings of their own.
    assert sorted((w.kind, w.subject) for w in r.warnings()) == [
        (CLUSTER_POLICY, "ClusterNetworkPolicy boundary"), ("cross-tenant", "globex/app -> acme/app"),
        ("external", "ip:198.51.100.7 -> acme/app"), ("isolation-removed", "NetworkPolicy acme/deny")]
    assert [w.message for w in r.warnings() if w.kind == CLUSTER_POLICY] == [
        "cluster policy ClusterNetworkPolicy/boundary removed (Admin tier, priority 10: decides cluster-wide, before "
        "every namespace's NetworkPolicies, which cannot override it)"]


def test_a_removed_or_changed_admission_policy_is_marked_though_no_flow_changes():
    from policies.tenant_admission import tenant_ingress_admission

    admission = tenant_ingress_admission("ClusterNetworkPolicy")
    r = review_clusters(load_objects(BASE + admission), load_objects(BASE), "dev")
    assert r.diff.lost == [] and r.diff.gained == []
    assert [(w.kind, w.subject) for w in r.warnings()] == [
        (CLUSTER_POLICY, "ValidatingAdmissionPolicy tenancy-tenant-ingress"),
        (CLUSTER_POLICY, "ValidatingAdmissionPolicyBinding tenancy-tenant-ingress")]
    assert r.warnings()[0].message.startswith(
        "admission policy ValidatingAdmissionPolicy/tenancy-tenant-ingress removed (cluster-wide: ")
    warned = copy.deepcopy(admission)
    warned[1]["spec"]["validationActions"] = ["Warn"]
    changed = review_clusters(load_objects(BASE + admission), load_objects(BASE + warned), "dev")
    assert [w.message.split(" (")[0] for w in changed.warnings()] == [
        "admission policy ValidatingAdmissionPolicyBinding/tenancy-tenant-ingress changed"]
