"""stackconfig/checks.py: the rules that span fields of a valid config - overlapping ranges, reserved and
duplicate names, metrics ports, egress, consumers, quota fit - every one reported at once.

Most of these rules are worded by the corpus (tests/bad_configs, named at each test); here they are `Pinned`: the
config is refused at the right path, naming the values involved."""

from __future__ import annotations

import pytest

from tests.stackconfig.helpers import (
    APP0,
    T0,
    Pinned,
    app,
    consumer,
    lb,
    nets,
    ok,
    problems,
    problems_of_app,
    tenant,
    values,
)

CLUSTER_CIDRS = "tenancy:cluster.egressProxy.clusterCidrs"


def test_app_name_length_is_bounded_by_its_statefulset_name() -> None:
    # Wording pinned by tests/bad_configs/17-app-name-too-long.
    longest = "a" * 43
    assert ok(values(tenant("acme", app(longest)))).config.tenants[0].apps[0].name == longest
    assert problems_of_app(name="a" * 44) == [Pinned(f"{APP0}.name", f"'{'a' * 44}-database'", "53", "52", "43")]


# ------------------------------------------------------------------------------------------------------- ranges

def test_overlapping_cluster_cidrs() -> None:
    # Wording pinned by tests/bad_configs/14-cluster-cidrs-overlap.
    assert problems(values(egressProxy={"clusterCidrs": ["10.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16",
                                                          "192.168.10.0/24"]})) == [
        Pinned(f"{CLUSTER_CIDRS}[1]", "10.0.0.0/8", f"{CLUSTER_CIDRS}[0]"),
        Pinned(f"{CLUSTER_CIDRS}[3]", "192.168.10.0/24", f"{CLUSTER_CIDRS}[2] 192.168.0.0/16"),
    ]


def test_ipv4_and_ipv6_ranges_never_overlap() -> None:
    cidrs = ["10.0.0.0/8", "fd00::/8"]  # 10/8 and fd00::/8 share their leading bits, not their family
    assert ok(values(egressProxy={"clusterCidrs": cidrs})).config.cluster.egress_proxy.cluster_cidrs == nets(cidrs)


def test_enabled_proxy_needs_cluster_cidrs() -> None:
    # Wording pinned by tests/bad_configs/47-proxy-without-cluster-cidrs.
    assert problems(values(egressProxy={"clusterCidrs": []})) == [Pinned(CLUSTER_CIDRS)]
    assert ok(values(egressProxy={"enabled": False, "clusterCidrs": []})).config.cluster.egress_proxy.enabled is False


def test_overlapping_load_balancer_ranges() -> None:
    # Wording pinned by tests/bad_configs/13-lb-ranges-overlap.
    assert problems_of_app(frontend=lb("2001:db8::/32", "2001:db8:1::/48")) == [
        Pinned(f"{APP0}.frontend.loadBalancer.sourceRanges[1]", "2001:db8:1::/48",
               f"{APP0}.frontend.loadBalancer.sourceRanges[0] 2001:db8::/32")
    ]


def test_adjacent_load_balancer_ranges_do_not_overlap() -> None:
    ok(values(tenant("acme", app(frontend=lb("203.0.113.0/25", "203.0.113.128/25")))))


# -------------------------------------------------------------------------------------------------------- names

def test_duplicate_tenant_names() -> None:
    # Wording pinned by tests/bad_configs/15-duplicate-tenant.
    assert problems(values(tenant("acme"), tenant("globex"), tenant("acme"), tenant("acme"))) == [
        Pinned("tenancy:tenants[2].name", "'acme'", "tenancy:tenants[0]"),
        Pinned("tenancy:tenants[3].name", "'acme'", "tenancy:tenants[0]"),
    ]


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public", "kube-node-lease"])
def test_kubernetes_namespaces_cannot_be_tenants(name: str) -> None:
    # Wording pinned by tests/bad_configs/37-tenant-kube-system.
    assert problems(values(tenant(name))) == [Pinned(f"{T0}.name", f"'{name}'")]


def test_kube_prefix_is_reserved() -> None:
    assert problems(values(tenant("kube-acme"))) == [
        f"{T0}.name: 'kube-acme': the 'kube-' prefix is reserved for Kubernetes system namespaces"]


def test_platform_namespaces_cannot_be_tenants() -> None:
    # Wording pinned by tests/bad_configs/38-tenant-monitoring-namespace and 53-tenant-named-monitoring.
    raw = values(tenant("monitoring"), tenant("egress-proxy"), tenant("coredns"), dns={"namespace": "coredns"})
    assert problems(raw) == [
        Pinned("tenancy:tenants[0].name", "'monitoring'", "tenancy:cluster.monitoring.namespace"),
        Pinned("tenancy:tenants[1].name", "'egress-proxy'", "tenancy:cluster.egressProxy.namespace"),
        Pinned("tenancy:tenants[2].name", "'coredns'", "tenancy:cluster.dns.namespace"),
    ]


def test_moved_monitoring_namespace_frees_its_default_name() -> None:
    raw = values(tenant("monitoring"), monitoring={"namespace": "observability"})
    assert ok(raw).config.tenants[0].name == "monitoring"


def test_disabled_proxy_does_not_claim_its_namespace() -> None:
    assert ok(values(tenant("egress-proxy"), egressProxy={"enabled": False})).config.tenants[0].name == "egress-proxy"


def test_owners_must_be_distinct_groups() -> None:
    # The duplicate's wording is pinned by tests/bad_configs/51-many-problems.
    assert problems(values(tenant("acme", owners=["admins", " ", "admins"]))) == [
        f"{T0}.owners[1]: must name a group",
        Pinned(f"{T0}.owners[2]", "'admins'"),
    ]


def test_duplicate_app_names_within_a_tenant() -> None:
    # Wording pinned by tests/bad_configs/16-duplicate-app.
    raw = values(tenant("acme", app("shop"), app("blog"), app("shop"), quota={"cpu": "12", "storage": "30Gi"}))
    assert problems(raw) == [
        Pinned("tenancy:tenants[0].apps[2].name", "'shop'", "'acme'", "tenancy:tenants[0].apps[0]")]


def test_same_app_name_in_two_tenants_is_fine() -> None:
    ok(values(tenant("acme", app("shop")), tenant("globex", app("shop"))))


# ------------------------------------------------------------------------------------------ ports and egress

@pytest.mark.parametrize("tier", ["frontend", "backend", "database"])
def test_metrics_port_must_differ_from_every_serving_port(tier: str) -> None:
    # Wording pinned by tests/bad_configs/24-metrics-port-collision.
    assert problems_of_app(metricsPort=9000, **{tier: {"port": 9000}}) == [
        Pinned(f"{APP0}.metricsPort", "9000", f"{tier}.port")]


def test_metrics_port_colliding_with_two_tiers_is_reported_for_each() -> None:
    assert len(problems_of_app(metricsPort=8080)) == 2  # frontend and backend both default to 8080


def test_internet_egress_needs_the_proxy() -> None:
    # Wording pinned by tests/bad_configs/33-internet-egress-without-proxy.
    raw = values(tenant("acme", app(backend={"internetEgress": True})), egressProxy={"enabled": False})
    assert problems(raw) == [Pinned(f"{APP0}.backend.internetEgress", "tenancy:cluster.egressProxy.enabled")]
    ok(values(tenant("acme", app(backend={"internetEgress": False})), egressProxy={"enabled": False}))
    ok(values(tenant("acme", app(backend={"internetEgress": True}))))


# ---------------------------------------------------------------------------------------------------- consumers
# Wording pinned by tests/bad_configs/20-consumer-unknown-tenant, 21-consumer-unknown-app, 22-consumer-self and
# 23-consumer-duplicate.

def test_valid_consumers_within_and_across_tenants() -> None:
    shop = app("shop", consumers=[consumer("globex", "portal"), consumer("globex", "portal", "frontend"),
                                  consumer("acme", "blog")])
    parsed = ok(values(tenant("acme", shop, app("blog"), quota={"cpu": "8"}), tenant("globex", app("portal"))))
    consumers = parsed.config.tenants[0].apps[0].consumers
    assert [(c.tenant, c.app, c.tier) for c in consumers] == [
        ("globex", "portal", "backend"), ("globex", "portal", "frontend"), ("acme", "blog", "backend")]


def test_consumer_of_itself() -> None:
    assert problems_of_app(consumers=[consumer("acme", "shop", "frontend")]) == [Pinned(f"{APP0}.consumers[0]")]


def test_consumer_naming_a_missing_tenant() -> None:
    raw = values(tenant("acme", app(consumers=[consumer("globx", "portal")])), tenant("globex", app("portal")))
    assert problems(raw) == [Pinned(f"{APP0}.consumers[0].tenant", "'globx'", "acme, globex")]


def test_consumer_naming_a_missing_app() -> None:
    raw = values(tenant("acme", app(consumers=[consumer("globex", "portl")])), tenant("globex", app("portal")))
    assert problems(raw) == [Pinned(f"{APP0}.consumers[0].app", "'globex'", "'portl'", "portal")]


def test_consumer_naming_a_tenant_without_apps() -> None:
    raw = values(tenant("acme", app(consumers=[consumer("globex", "portal")])), tenant("globex"))
    assert problems(raw) == [Pinned(f"{APP0}.consumers[0].app", "'globex'", "'portal'", "(apps: none)")]


def test_duplicate_consumer_counts_the_default_tier() -> None:
    raw = values(tenant("acme", app(consumers=[consumer("globex", "portal"), consumer("globex", "portal", "backend")])),
                 tenant("globex", app("portal")))
    assert problems(raw) == [Pinned(f"{APP0}.consumers[1]", "globex/portal (backend)")]


# -------------------------------------------------------------------------------------------------------- quota
# One app at the defaults needs, in limits x replicas: cpu 2x500m + 2x1 + 1x1 = 4, memory 2x256Mi + 2x512Mi + 1x1Gi
# = 2.5Gi, 5 pods, storage 10Gi. The default quota (4, 8Gi, 30, 20Gi) fits exactly one such app on CPU.
# The cpu, memory and pods lines are worded by tests/bad_configs/34-quota-cpu-exceeded and 35-quota-pods-exceeded,
# requests above limits by 36-requests-exceed-limits; storage's "volume claims" line has no corpus case.

def test_default_app_fits_the_default_quota_exactly() -> None:
    ok(values(tenant("acme", app())))


def test_quota_cpu_exceeded() -> None:
    assert problems(values(tenant("acme", app(frontend={"replicas": 3})))) == [Pinned(f"{T0}.quota.cpu", "4.5", "4")]


def test_quota_cpu_in_millicores() -> None:
    small = {"resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "64Mi"}}}
    raw = values(tenant("acme", app(frontend={**small, "replicas": 1}, backend={**small, "replicas": 1},
                                    database={**small, "replicas": 1}), quota={"cpu": "500m"}))
    assert problems(raw) == [Pinned(f"{T0}.quota.cpu", "750m", "500m")]


def test_quota_memory_exceeded() -> None:
    assert problems(values(tenant("acme", app(), quota={"memory": "2Gi"}))) == [
        Pinned(f"{T0}.quota.memory", "2.5Gi", "2Gi")]


def test_quota_storage_counts_every_database_replica() -> None:
    raw = values(tenant("acme", app(database={"replicas": 3, "storage": "10Gi"}),
                        quota={"cpu": "8", "storage": "20Gi"}))
    assert problems(raw) == [f"{T0}.quota.storage: apps need 30Gi (volume claims x replicas) but the quota is 20Gi"]


def test_quota_pods_exceeded() -> None:
    assert problems(values(tenant("acme", app(), quota={"pods": 4}))) == [Pinned(f"{T0}.quota.pods", "5", "4")]


def test_quota_sums_every_app_of_the_tenant() -> None:
    raw = values(tenant("acme", app("shop"), app("blog")))
    assert problems(raw) == [Pinned(f"{T0}.quota.cpu", "8", "4")]


def test_parked_tiers_use_no_quota() -> None:
    parked = {"replicas": 0}
    ok(values(tenant("acme", app("shop"), app("blog", frontend=parked, backend=parked, database=parked))))


def test_requests_above_limits() -> None:
    resources = {"requests": {"cpu": "1500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert problems_of_app(database={"resources": resources}) == [
        Pinned(f"{APP0}.database.resources.requests.cpu", "1500m", "limits.cpu 1")]


def test_requests_equal_to_limits_are_fine() -> None:
    resources = {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"cpu": "0.5", "memory": "256Mi"}}
    ok(values(tenant("acme", app(frontend={"resources": resources}))))


# ------------------------------------------------------------------------------------------------------ at once

def test_every_cross_field_problem_is_reported_at_once() -> None:
    # As tests/bad_configs/51-many-problems, which pins the wording, plus the CNI, ranges and reserved names.
    raw = values(
        tenant("acme", app("shop", metricsPort=5432, consumers=[consumer("initech", "billing")]), owners=["a", "a"]),
        tenant("acme"),
        tenant("kube-system"),
        cni="flannel",
        egressProxy={"clusterCidrs": ["10.0.0.0/8", "10.1.0.0/16"]},
    )
    found = problems(raw)
    assert found == [
        Pinned("tenancy:cluster.cni", "'flannel'"),
        Pinned(f"{CLUSTER_CIDRS}[1]", "10.1.0.0/16", f"{CLUSTER_CIDRS}[0] 10.0.0.0/8"),
        Pinned("tenancy:tenants[1].name", "'acme'", "tenancy:tenants[0]"),
        Pinned("tenancy:tenants[2].name", "'kube-system'"),
        Pinned(f"{T0}.owners[1]", "'a'"),
        Pinned(f"{APP0}.metricsPort", "5432", "database.port"),
        Pinned(f"{APP0}.consumers[0].tenant", "'initech'", "acme, kube-system"),
    ]
