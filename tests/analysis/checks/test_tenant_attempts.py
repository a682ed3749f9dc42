"""`tenant-authored-widening` with cluster policies: what a tenant's NetworkPolicy tried to open and the cluster-policy
rule that stops it are reported as a note; only what it really opens is a violation."""

from __future__ import annotations

from analysis.checks.invariants import check
from kube.labels import COMPONENT, MANAGED_BY, MANAGER, PART_OF, TENANT

GROUP = "policy.networking.k8s.io"


def tenant(name: str) -> list[dict]:
    labels = {PART_OF: "shop", COMPONENT: "backend", TENANT: name, "app.kubernetes.io/name": "shop-backend"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {TENANT: name}}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop-backend", "namespace": name},
         "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
             {"name": "c", "ports": [{"name": "serve", "containerPort": 8080}]}]}}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "default-deny", "namespace": name, "labels": {MANAGED_BY: MANAGER}},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
    ]


NO_INTERNET = {
    "apiVersion": f"{GROUP}/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "no-internet"},
    "spec": {"tier": "Admin", "priority": 10, "subject": {"namespaces": {"matchLabels": {TENANT: "acme"}}},
             "egress": [{"name": "pods", "action": "Pass", "to": [{"namespaces": {}}]},
                        {"name": "outside", "action": "Deny", "to": [{"networks": ["0.0.0.0/0", "::/0"]}]}]},
}
INTERNET_FOR_ALL = {
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "internet", "namespace": "acme"},
    "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]},
}


def test_an_attempt_stopped_by_an_admin_rule_is_a_note_naming_the_rule():
    notes: list[str] = []
    violations = check(tenant("acme") + [NO_INTERNET, INTERNET_FOR_ALL], notes=notes)
    assert [v for v in violations if v.rule in ("tenant-authored-widening", "egress-via-proxy")] == []
    assert len(notes) == 1
    assert notes[0].startswith("tenant-authored-widening NetworkPolicy acme/internet: tried to open ")
    assert notes[0].endswith("stopped by ClusterNetworkPolicy/no-internet (Admin tier, priority 10) egress rule 1 "
                             "'outside': Deny to[0] networks 0.0.0.0/0, ::/0; any port")


def test_without_the_cluster_policy_the_same_policy_is_a_violation_and_no_note():
    notes: list[str] = []
    violations = check(tenant("acme") + [INTERNET_FOR_ALL], notes=notes)
    assert notes == []
    assert any(v.rule == "tenant-authored-widening" and v.subject == "NetworkPolicy acme/internet"
               for v in violations)
