"""analysis.checks.proof: a config's own objects allow exactly what it declares, and an intruder nothing - and a
widening of those objects is seen as such."""

from __future__ import annotations

from analysis.checks.proof import INTRUDER, prove
from stackconfig import StackConfig, parse_config

def config(admin_policies: str) -> StackConfig:
    return parse_config({
    "cluster": {"cni": "calico", "adminPolicies": admin_policies, "egressProxy": {"enabled": True}},
    "tenants": [
        {"name": "acme", "apps": [{"name": "shop", "frontend": {"image": "example/web:1",
                                                               "loadBalancer": {"sourceRanges": ["203.0.113.0/24"]}},
                                   "backend": {"image": "example/api:1", "internetEgress": True},
                                   "database": {"storage": "1Gi"}}]},
        {"name": "globex", "apps": [{"name": "portal", "frontend": {"image": "example/web:1"},
                                     "backend": {"image": "example/api:1"}, "database": {"storage": "1Gi"},
                                     "consumers": [{"tenant": "acme", "app": "shop", "tier": "backend"}]}]},
    ],
    }).config


def test_declared_flows_are_exactly_the_program_flows():
    proof = prove(config("ClusterNetworkPolicy"))
    declared = proof.declared()
    assert ("acme/shop-backend", "globex/portal-backend") in declared
    assert ("ip:203.0.113.1", "acme/shop-frontend") in declared
    assert proof.program_flows() == declared
    assert all(not proof.engine.allowed_ports(INTRUDER, w) for w in proof.tenant_workloads())


def test_an_allow_all_policy_shows_as_flows_nobody_declared_and_the_admin_tier_keeps_other_namespaces_out():
    allow_all = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "allow-all", "namespace": "globex"},
                 "spec": {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}}
    undeclared = {}
    for admin in ("none", "ClusterNetworkPolicy"):
        proof = prove(config(admin), extra=[allow_all])
        undeclared[admin] = set(proof.program_flows()) - set(proof.declared())
    # No cluster-policy peer names an outside address for ingress: that widening stays, admin tier or not.
    inside = ("ip:192.0.2.10", "globex/portal-database")
    across = {(INTRUDER, "globex/portal-database"), ("kube-system/cluster-dns", "globex/portal-database")}
    assert inside in undeclared["none"] and across <= undeclared["none"]
    assert inside in undeclared["ClusterNetworkPolicy"] and not across & undeclared["ClusterNetworkPolicy"]
