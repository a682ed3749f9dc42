"""The NetworkPolicy builders one by one, without Pulumi or the engine: the shape each pattern promises."""

from __future__ import annotations

import ipaddress

from kube.labels import COMPONENT, MANAGED_BY, MANAGER, NAMESPACE_NAME, PART_OF, POLICY_PATTERN
from policies.egress_proxy import ALWAYS_EXCLUDED, internet_blocks, proxy_ingress, proxy_internet_egress
from policies.isolation import default_deny
from policies.load_balancer import load_balancer_ingress
from policies.manifest import network_policy, tcp


def nets(cidrs: list[str]) -> list:
    """The config model holds CIDRs parsed: what it stores for these texts."""
    return [ipaddress.ip_network(c) for c in cidrs]


def test_network_policy_is_a_complete_manifest_marked_as_managed():
    policy = network_policy("p", "acme", "some-pattern", {"podSelector": {}})
    assert policy["apiVersion"] == "networking.k8s.io/v1" and policy["kind"] == "NetworkPolicy"
    assert policy["metadata"]["name"] == "p" and policy["metadata"]["namespace"] == "acme"
    assert policy["metadata"]["labels"][MANAGED_BY] == MANAGER
    assert policy["metadata"]["labels"][POLICY_PATTERN] == "some-pattern"
    assert policy["spec"] == {"podSelector": {}}


def test_tcp_names_the_protocol_explicitly():
    assert tcp(8080) == {"protocol": "TCP", "port": 8080}
    assert tcp("metrics") == {"protocol": "TCP", "port": "metrics"}


def test_default_deny_selects_every_pod_in_both_directions_with_no_rules():
    spec = default_deny("acme")["spec"]
    assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_load_balancer_ingress_admits_exactly_the_ranges_on_the_frontend_port():
    policy = load_balancer_ingress("acme", "shop", 8080, nets(["203.0.113.0/24", "198.51.100.0/24"]))
    spec = policy["spec"]
    assert policy["metadata"]["name"] == "shop-frontend-from-load-balancer"
    assert spec["podSelector"] == {"matchLabels": {PART_OF: "shop", COMPONENT: "frontend"}}
    assert spec["policyTypes"] == ["Ingress"]
    assert spec["ingress"] == [{"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}},
                                         {"ipBlock": {"cidr": "198.51.100.0/24"}}],
                                "ports": [{"protocol": "TCP", "port": 8080}]}]


def test_proxy_ingress_admits_each_declared_backend_by_namespace_name_and_tier():
    (rule,) = proxy_ingress("egress-proxy", 3128, [("globex", "portal"), ("acme", "shop")])["spec"]["ingress"]
    # One peer per backend, each an AND of its namespace (by the label only the API server sets) and its pods.
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: "acme"}},
         "podSelector": {"matchLabels": {PART_OF: "shop", COMPONENT: "backend"}}},
        {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: "globex"}},
         "podSelector": {"matchLabels": {PART_OF: "portal", COMPONENT: "backend"}}},
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 3128}]


def test_proxy_ingress_without_backends_admits_no_one():
    # An empty `from` would admit everyone; no rule at all admits no one.
    assert proxy_ingress("egress-proxy", 3128, [])["spec"]["ingress"] == []


def test_internet_blocks_cover_both_families_minus_cluster_and_link_local_ranges():
    blocks = internet_blocks(nets(["10.0.0.0/8", "fd00:10::/64"]))
    assert [b["ipBlock"]["cidr"] for b in blocks] == ["0.0.0.0/0", "::/0"]
    v4, v6 = (set(b["ipBlock"]["except"]) for b in blocks)
    assert "10.0.0.0/8" in v4 and "169.254.0.0/16" in v4
    assert "fd00:10::/64" in v6 and "fe80::/10" in v6
    for network in ALWAYS_EXCLUDED:
        assert str(network) in (v4 if network.version == 4 else v6)


def test_proxy_internet_egress_allows_only_the_given_ports():
    (rule,) = proxy_internet_egress("egress-proxy", nets(["10.0.0.0/8"]), [80, 443])["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 443}]
    assert rule["to"] == internet_blocks(nets(["10.0.0.0/8"]))
