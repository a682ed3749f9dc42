"""The Platform-owned cluster policies (issue 13): which API per CNI, what each tier says, sizes within the API's
limits, and every object accepted by the network-policy-api CRDs."""

from __future__ import annotations

from typing import Any

import pytest

from kube import customresources
from policies import cluster_policies
from policies.cluster_policy import as_api
from specs.plan import stack_objects
from stackconfig import ConfigError, StackConfig, parse_config

DEV_NAMES = [
    "tenancy-consumers.acme.shop.backend",
    "tenancy-consumers.globex.portal.backend",
    "tenancy-monitoring.acme.9090",
    "tenancy-monitoring.globex.9090",
    "tenancy-boundary.acme",
    "tenancy-boundary.globex",
    "tenancy-baseline",
]


def app(name: str, consumers: list[dict] | None = None, backend_port: int = 8080) -> dict:
    return {"name": name, "frontend": {"image": "nginx:1.27"}, "backend": {"image": "api:1", "port": backend_port},
            "consumers": consumers or []}


ROOMY = {"cpu": "100", "memory": "200Gi", "pods": 500, "storage": "1Ti"}


def config(tenants: list[dict], **cluster: Any) -> dict:
    return {"cluster": {"cni": "calico", **cluster}, "tenants": [{"quota": ROOMY, **t} for t in tenants]}


def two_tenants(**cluster: Any) -> dict:
    return config([
        {"name": "acme", "apps": [app("shop", [{"tenant": "globex", "app": "portal", "tier": "backend"},
                                               {"tenant": "acme", "app": "blog", "tier": "frontend"}]),
                                  app("blog")]},
        {"name": "globex", "apps": [app("portal")]},
    ], **cluster)


def parsed(raw: dict) -> StackConfig:
    return parse_config(raw).config


def by_name(objects: list[dict]) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects}


# ------------------------------------------------------------------------------------------- which API, per CNI

@pytest.mark.parametrize(("cni", "api"), [
    ("calico", "ClusterNetworkPolicy"), ("antrea", "AdminNetworkPolicy"), ("ovn-kubernetes", "AdminNetworkPolicy"),
    ("kube-ovn", "AdminNetworkPolicy"), ("cilium", "none"), ("kube-router", "none"), ("my-cni", "none"),
])
def test_default_is_what_the_cni_implements(cni: str, api: str) -> None:
    assert parsed(two_tenants(cni=cni)).cluster.admin_policy_api == api


def test_a_cni_without_cluster_policies_defaults_to_none_with_the_reason() -> None:
    result = parse_config(two_tenants(cni="cilium"))
    assert result.warnings == [(
        "tenancy:cluster.adminPolicies: no admin-tier cluster policies: CNI 'cilium' implements neither "
        "ClusterNetworkPolicy nor AdminNetworkPolicy, so adminPolicies defaults to none and tenant owners (bound "
        "to the `admin` ClusterRole in their namespace) can widen their namespace's isolation with NetworkPolicies "
        "of their own; `tenancy check` reports such policies as tenant-authored-widening. Set adminPolicies "
        "explicitly if the cluster does implement one (or to none to silence this)")]
    assert cluster_policies(result.config) == []


def test_explicit_none_is_silent_and_renders_nothing() -> None:
    result = parse_config(two_tenants(cni="cilium", adminPolicies="none"))
    assert result.warnings == []
    assert cluster_policies(result.config) == []
    assert cluster_policies(parsed(two_tenants(adminPolicies="none"))) == []


def test_an_api_the_cni_does_not_implement_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(two_tenants(cni="cilium", adminPolicies="ClusterNetworkPolicy"))
    assert caught.value.problems == [(
        "tenancy:cluster.adminPolicies: ClusterNetworkPolicy is not implemented by CNI 'cilium' (it implements "
        "neither cluster policy API): the policies would be accepted by the API server (given the CRDs) and then "
        "ignored, so tenants could still widen their isolation. Choose none, or set "
        "tenancy:cluster.allowUnenforcedPolicies: true to acknowledge that they are not enforced")]
    with pytest.raises(ConfigError) as caught:
        parse_config(two_tenants(cni="antrea", adminPolicies="ClusterNetworkPolicy"))
    assert "(it implements AdminNetworkPolicy)" in caught.value.problems[0]
    assert "Choose AdminNetworkPolicy or none" in caught.value.problems[0]


def test_acknowledged_or_unknown_cni_renders_with_a_warning() -> None:
    acknowledged = parse_config(two_tenants(cni="cilium", adminPolicies="ClusterNetworkPolicy",
                                            allowUnenforcedPolicies=True))
    assert acknowledged.warnings == [(
        "tenancy:cluster.adminPolicies: CNI 'cilium' does not implement ClusterNetworkPolicy and "
        "tenancy:cluster.allowUnenforcedPolicies is true: the cluster policies are rendered but NOT enforced on "
        "this cluster")]
    assert len(cluster_policies(acknowledged.config)) == 7
    unknown = parse_config(two_tenants(cni="my-cni", adminPolicies="AdminNetworkPolicy"))
    assert unknown.warnings[-1] == (
        "tenancy:cluster.adminPolicies: cannot tell whether CNI 'my-cni' implements AdminNetworkPolicy; the cluster "
        "policies are rendered, verify that they are enforced before relying on them")


def test_unknown_choice_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(two_tenants(adminPolicies="ANP"))
    assert caught.value.problems[0].startswith("tenancy:cluster.adminPolicies: ")
    assert "'none', 'ClusterNetworkPolicy' or 'AdminNetworkPolicy'" in caught.value.problems[0]


# ------------------------------------------------------------------------------------------- what they say

def test_dev_stack_emits_admin_and_baseline_tiers(dev) -> None:
    policies = [m for m in dev.manifests() if m["kind"] == "ClusterNetworkPolicy"]
    assert sorted(p["metadata"]["name"] for p in policies) == sorted(DEV_NAMES)
    tiers = {p["metadata"]["name"]: (p["spec"]["tier"], p["spec"]["priority"]) for p in policies}
    assert tiers == {
        "tenancy-consumers.acme.shop.backend": ("Admin", 100),
        "tenancy-consumers.globex.portal.backend": ("Admin", 100),
        "tenancy-monitoring.acme.9090": ("Admin", 105),
        "tenancy-monitoring.globex.9090": ("Admin", 105),
        "tenancy-boundary.acme": ("Admin", 110),
        "tenancy-boundary.globex": ("Admin", 110),
        "tenancy-baseline": ("Baseline", 100),
    }
    assert all(p["apiVersion"] == "policy.networking.k8s.io/v1alpha2" and "namespace" not in p["metadata"]
               for p in policies)


def test_consumers_are_passed_on_both_ends_exactly() -> None:
    policies = by_name(cluster_policies(parsed(two_tenants())))
    backend = policies["tenancy-consumers.acme.shop.backend"]["spec"]
    shop = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "acme"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/component": "backend"}}}
    portal = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "globex"}},
              "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "portal",
                                              "app.kubernetes.io/component": "backend"}}}
    assert backend == {
        "tier": "Admin", "priority": 100, "subject": {"pods": shop},
        "ingress": [{"name": "pass-declared-consumers", "action": "Pass", "from": [{"pods": portal}],
                     "protocols": [{"tcp": {"destinationPort": {"number": 8080}}}]}],
    }
    assert policies["tenancy-consumers.globex.portal.backend"]["spec"] == {
        "tier": "Admin", "priority": 100, "subject": {"pods": portal},
        "egress": [{"name": "pass-declared-to-port-8080", "action": "Pass", "to": [{"pods": shop}],
                    "protocols": [{"tcp": {"destinationPort": {"number": 8080}}}]}],
    }
    # The same-tenant consumer (acme/blog) needs nothing from the admin tier.
    assert not any("blog" in name for name in policies)


def test_boundary_denies_other_tenants_unknown_namespaces_and_the_outside() -> None:
    spec = by_name(cluster_policies(parsed(two_tenants())))["tenancy-boundary.acme"]["spec"]
    assert spec["subject"] == {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "acme"}}}
    assert [(r["name"], r["action"]) for r in spec["ingress"]] == [
        ("deny-from-other-tenants", "Deny"), ("deny-from-unknown-namespaces", "Deny"),
        ("deny-from-platform-namespaces", "Deny")]
    assert [(r["name"], r["action"]) for r in spec["egress"]] == [
        ("deny-to-other-tenants", "Deny"), ("deny-to-unknown-namespaces", "Deny"),
        ("pass-to-own-namespace", "Pass"), ("pass-to-dns", "Pass"), ("pass-to-egress-proxy", "Pass"),
        ("deny-to-platform-namespaces", "Deny"), ("deny-outside-cluster", "Deny")]
    others = {"matchExpressions": [{"key": "tenancy/tenant", "operator": "Exists"},
                                   {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["acme"]}]}
    unknown = {"matchExpressions": [
        {"key": "tenancy/tenant", "operator": "DoesNotExist"},
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
         "values": ["acme", "egress-proxy", "kube-system", "monitoring"]}]}
    assert spec["ingress"][0]["from"] == spec["egress"][0]["to"] == [{"namespaces": others}]
    assert spec["ingress"][1]["from"] == spec["egress"][1]["to"] == [{"namespaces": unknown}]
    platform = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                      "values": ["egress-proxy", "kube-system", "monitoring"]}]}
    assert spec["ingress"][2]["from"] == spec["egress"][5]["to"] == [{"namespaces": platform}]
    assert spec["egress"][2]["to"] == [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "acme"}}}]
    # Tenants call the platform's DNS and proxy pods on their ports only; the services' own policies decide.
    assert spec["egress"][3]["to"] == [{"pods": {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}}]
    assert spec["egress"][3]["protocols"] == [{"udp": {"destinationPort": {"number": 53}}},
                                              {"tcp": {"destinationPort": {"number": 53}}}]
    assert spec["egress"][4]["to"] == [{"pods": {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "egress-proxy"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "tenancy-platform",
                                        "app.kubernetes.io/component": "egress-proxy"}}}}]
    assert spec["egress"][4]["protocols"] == [{"tcp": {"destinationPort": {"number": 3128}}}]
    assert spec["egress"][6]["to"] == [{"networks": ["0.0.0.0/0", "::/0"]}]
    assert all("protocols" not in r for i, r in enumerate(spec["ingress"] + spec["egress"]) if i not in (6, 7))


def test_monitoring_is_passed_on_each_apps_metrics_port_only() -> None:
    raw = two_tenants()
    raw["tenants"][0]["apps"][1]["metricsPort"] = 9100
    policies = by_name(cluster_policies(parsed(raw)))
    prometheus = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                  "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
    for port, apps in ((9090, ["shop"]), (9100, ["blog"])):
        assert policies[f"tenancy-monitoring.acme.{port}"]["spec"] == {
            "tier": "Admin", "priority": 105,
            "subject": {"pods": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "acme"}},
                "podSelector": {"matchExpressions": [
                    {"key": "app.kubernetes.io/part-of", "operator": "In", "values": apps}]}}},
            "ingress": [{"name": f"pass-monitoring-to-port-{port}", "action": "Pass", "from": [{"pods": prometheus}],
                         "protocols": [{"tcp": {"destinationPort": {"number": port}}}]}],
        }


def test_without_the_proxy_its_namespace_is_not_known() -> None:
    raw = two_tenants(egressProxy={"enabled": False})
    spec = by_name(cluster_policies(parsed(raw)))["tenancy-boundary.acme"]["spec"]
    assert spec["ingress"][1]["from"][0]["namespaces"]["matchExpressions"][1]["values"] == [
        "acme", "kube-system", "monitoring"]
    assert "pass-to-egress-proxy" not in [r["name"] for r in spec["egress"]]


def test_baseline_denies_tenant_namespaces_but_dns() -> None:
    raw = two_tenants(dns={"namespace": "dns", "podLabels": {"app": "coredns"}, "port": 5353})
    spec = by_name(cluster_policies(parsed(raw)))["tenancy-baseline"]["spec"]
    assert spec == {
        "tier": "Baseline", "priority": 100,
        "subject": {"namespaces": {"matchExpressions": [{"key": "tenancy/tenant", "operator": "Exists"}]}},
        "ingress": [{"name": "deny-all-ingress", "action": "Deny", "from": [{"namespaces": {}}]}],
        "egress": [
            {"name": "accept-dns", "action": "Accept",
             "to": [{"pods": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}},
                              "podSelector": {"matchLabels": {"app": "coredns"}}}}],
             "protocols": [{"udp": {"destinationPort": {"number": 5353}}},
                           {"tcp": {"destinationPort": {"number": 5353}}}]},
            {"name": "deny-all-egress", "action": "Deny",
             "to": [{"namespaces": {}}, {"networks": ["0.0.0.0/0", "::/0"]}]},
        ],
    }


def test_admin_network_policy_api_is_the_same_policies_in_v1alpha1() -> None:
    objects = cluster_policies(parsed(two_tenants(cni="antrea")))
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in objects)
    assert kinds == [
        ("AdminNetworkPolicy", "tenancy-boundary.acme"), ("AdminNetworkPolicy", "tenancy-boundary.globex"),
        ("AdminNetworkPolicy", "tenancy-consumers.acme.shop.backend"),
        ("AdminNetworkPolicy", "tenancy-consumers.globex.portal.backend"),
        ("AdminNetworkPolicy", "tenancy-monitoring.acme.9090"), ("AdminNetworkPolicy", "tenancy-monitoring.globex.9090"),
        ("BaselineAdminNetworkPolicy", "default"),
    ]
    banp = by_name(objects)["default"]
    assert banp["apiVersion"] == "policy.networking.k8s.io/v1alpha1"
    assert "priority" not in banp["spec"] and "tier" not in banp["spec"]
    assert banp["spec"]["egress"][0]["action"] == "Allow"
    assert banp["spec"]["egress"][0]["ports"] == [{"portNumber": {"protocol": "UDP", "port": 53}},
                                                  {"portNumber": {"protocol": "TCP", "port": 53}}]
    anp = by_name(objects)["tenancy-consumers.acme.shop.backend"]["spec"]
    assert anp["priority"] == 100 and anp["ingress"][0]["action"] == "Pass"
    assert anp["ingress"][0]["ports"] == [{"portNumber": {"protocol": "TCP", "port": 8080}}]


def test_port_ranges_translate_to_v1alpha1() -> None:
    cnp = {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
           "metadata": {"name": "r"}, "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}},
           "egress": [{"name": "r", "action": "Accept", "to": [{"namespaces": {}}],
                       "protocols": [{"sctp": {"destinationPort": {"range": {"start": 1, "end": 9}}}}]}]}}
    assert as_api(cnp, "AdminNetworkPolicy")["spec"]["egress"][0]["ports"] == [
        {"portRange": {"protocol": "SCTP", "start": 1, "end": 9}}]


# ------------------------------------------------------------------------------------------- valid and within limits

@pytest.mark.parametrize("cni", ["calico", "antrea"])
def test_every_emitted_object_is_accepted_by_its_crd(cni: str) -> None:
    objects = cluster_policies(parsed(two_tenants(cni=cni)))
    assert objects
    for obj in objects:
        assert customresources.problems(obj, customresources.STANDARD) == [], obj["metadata"]["name"]


def test_rendered_stacks_pass_crd_validation(any_stack) -> None:
    for manifest in any_stack.manifests():
        if customresources.is_custom_resource(manifest):
            assert customresources.problems(manifest, customresources.STANDARD) == [], manifest["metadata"]["name"]


def test_plan_includes_the_cluster_policies() -> None:
    objects = stack_objects(parsed(two_tenants()))
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "ClusterNetworkPolicy"] == DEV_NAMES


def many_consumers(count: int, **cluster: Any) -> dict:
    tenants = [{"name": f"c{i}", "apps": [app("a")]} for i in range(count)]
    consumers = [{"tenant": f"c{i}", "app": "a", "tier": "backend"} for i in range(count)]
    return config([{"name": "hub", "apps": [app("api", consumers)]}, *tenants], **cluster)


def test_many_consumers_are_split_over_rules_of_25_peers() -> None:
    policy = by_name(cluster_policies(parsed(many_consumers(60))))["tenancy-consumers.hub.api.backend"]
    rules = policy["spec"]["ingress"]
    assert [(r["name"], len(r["from"])) for r in rules] == [
        ("pass-declared-consumers", 25), ("pass-declared-consumers-2", 25), ("pass-declared-consumers-3", 10)]
    assert customresources.problems(policy, customresources.STANDARD) == []


def test_too_many_consumers_for_one_object_fail_clearly() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(many_consumers(626))
    assert caught.value.problems == [(
        "tenancy:tenants[0].apps[0].consumers: 626 consumers from other tenants; one ClusterNetworkPolicy admits "
        "at most 25 rules of 25 peers (625 consumers) into one backend. Group consumers into fewer apps, or set "
        "tenancy:cluster.adminPolicies: none")]
    # v1alpha1 allows 100 peers per rule: the same stack fits.
    objects = cluster_policies(parsed(many_consumers(626, cni="antrea")))
    hub = by_name(objects)["tenancy-consumers.hub.api.backend"]
    assert [len(r["from"]) for r in hub["spec"]["ingress"]] == [100] * 6 + [26]
    assert customresources.problems(hub, customresources.STANDARD) == []


def test_a_consumer_of_many_backends_fails_clearly() -> None:
    hubs = [{"name": f"h{i}", "apps": [app("api", [{"tenant": "c", "app": "a", "tier": "backend"}], 1000 + i)]}
            for i in range(26)]
    with pytest.raises(ConfigError) as caught:
        parse_config(config([*hubs, {"name": "c", "apps": [app("a")]}]))
    assert caught.value.problems == [(
        "tenancy:tenants: c/a backend consumes 26 backends of other tenants on 26 ports; one ClusterNetworkPolicy "
        "admits at most 25 rules of 25 peers (one rule per port and per 25 backends). Declare fewer consumers, or "
        "set tenancy:cluster.adminPolicies: none")]
    ok = cluster_policies(parsed(config([*hubs[:25], {"name": "c", "apps": [app("a")]}])))
    assert len(by_name(ok)["tenancy-consumers.c.a.backend"]["spec"]["egress"]) == 25
