"""Which policies a platform, a tenant and an app get: the whole allowed-flow design in one readable place."""

from __future__ import annotations

from typing import Sequence

from kube.labels import namespace_selector, proxy_selector, tier_selector, workload_name
from policies.baseline_deny import tenants_baseline
from policies.cluster_policy import LIMITS, as_api, check_size, tcp, udp
from policies.cluster_policy import pods as cluster_pods
from policies.consumer_pass import consumer_passes
from policies.dns import dns_egress
from policies.egress_proxy import proxy_ingress, proxy_internet_egress
from policies.flows import Pods, allow_flow, egress_to, ingress_from
from policies.isolation import default_deny
from policies.load_balancer import load_balancer_ingress
from policies.monitoring import monitoring_ingress
from policies.monitoring_pass import monitoring_passes
from policies.tenant_boundary import PlatformService, tenant_boundary
from policies.tenant_admission import tenant_ingress_admission
from stackconfig.cni import NO_ADMIN_POLICIES, tenant_admission_supported
from stackconfig.models import App, ClusterConfig, StackConfig, TenantConfig


def namespace_baseline(namespace: str, cluster: ClusterConfig) -> list[dict]:
    """Default deny in both directions, plus DNS: what every namespace this program owns starts from."""
    return [default_deny(namespace), dns_egress(namespace, cluster.dns.namespace, cluster.dns.pod_labels, cluster.dns.port)]


def internet_egress_backends(tenants: Sequence[TenantConfig]) -> list[tuple[str, str]]:
    """(tenant, app) of every backend declared with `internetEgress: true`: the proxy's only clients."""
    return [(t.name, a.name) for t in tenants for a in t.apps if a.backend.internet_egress]


def platform_policies(cluster: ClusterConfig, tenants: Sequence[TenantConfig] = ()) -> list[dict]:
    """The egress proxy's namespace: deny by default, accept the declared backends, reach only the internet."""
    proxy = cluster.egress_proxy
    if not proxy.enabled:
        return []
    return [
        *namespace_baseline(proxy.namespace, cluster),
        proxy_ingress(proxy.namespace, proxy.port, internet_egress_backends(tenants)),
        proxy_internet_egress(proxy.namespace, proxy.cluster_cidrs, proxy.internet_ports),
    ]


def tenant_policies(tenant: TenantConfig, cluster: ClusterConfig) -> list[dict]:
    """Tenant-wide: isolation, DNS, and monitoring on metrics ports (scenarios 1, 3, 5, 6, 10)."""
    return [
        *namespace_baseline(tenant.name, cluster),
        monitoring_ingress(tenant.name, cluster.monitoring.namespace, cluster.monitoring.pod_labels),
    ]


def app_policies(tenant: TenantConfig, app: App, cluster: ClusterConfig) -> dict[str, list[dict]]:
    """An app's allowed flows, by the namespace each policy lives in (a consumer's egress half lives in the
    consumer's namespace). Nothing else is allowed: this list *is* the app's network design."""
    ns = tenant.name

    def pods(tier: str) -> Pods:
        return Pods(ns, tier_selector(app.name, tier))

    frontend, backend, database = app.frontend, app.backend, app.database
    own: list[dict] = [
        *allow_flow(f"{app.name}-frontend-to-backend", "tier-flow", pods("frontend"), pods("backend"), backend.port),
        *allow_flow(f"{app.name}-backend-to-database", "tier-flow", pods("backend"), pods("database"), database.port),
    ]
    if frontend.load_balancer:
        own.append(load_balancer_ingress(ns, app.name, frontend.port, frontend.load_balancer.source_ranges))
    if backend.internet_egress:
        proxy = cluster.egress_proxy
        own.append(egress_to(
            f"{app.name}-backend-to-egress-proxy", "egress-via-proxy",
            pods("backend"), Pods(proxy.namespace, proxy_selector()), proxy.port,
        ))
    by_namespace: dict[str, list[dict]] = {ns: own}
    for consumer in app.consumers:
        source = Pods(consumer.tenant, tier_selector(consumer.app, consumer.tier))
        from_name = f"{workload_name(app.name, 'backend')}-from-{consumer.tenant}-{consumer.app}-{consumer.tier}"
        to_name = f"{workload_name(consumer.app, consumer.tier)}-to-{ns}-{app.name}-backend"
        own.append(ingress_from(from_name, "consumer", source, pods("backend"), backend.port))
        by_namespace.setdefault(consumer.tenant, []).append(
            egress_to(to_name, "consumer", source, pods("backend"), backend.port))
    return by_namespace


def cluster_policies(config: StackConfig) -> list[dict]:
    """The Platform-owned cluster policies, which tenants cannot touch (cluster-scoped; tenants hold `admin` in
    their namespace only), in the API the cluster implements; none with `adminPolicies: none` (issue 13).

    Admin tier: the declared cross-tenant consumers and monitoring's scrape of metrics ports Passed to the
    namespace policies, then each tenant's boundary. Baseline tier: default deny for tenant namespaces, with
    DNS, for pods no NetworkPolicy selects."""
    cluster = config.cluster
    api = cluster.admin_policy_api
    if api == NO_ADMIN_POLICIES:
        return []
    dns, proxy = cluster.dns, cluster.egress_proxy
    known = [dns.namespace, cluster.monitoring.namespace]
    # The platform services tenants call: their pods on their ports are Passed to the namespace policies.
    dns_pods = cluster_pods(namespace_selector(dns.namespace), {"matchLabels": dict(dns.pod_labels)})
    services = [PlatformService("dns", dns_pods, [udp(dns.port), tcp(dns.port)])]
    if proxy.enabled:
        known.append(proxy.namespace)
        proxy_pods = cluster_pods(namespace_selector(proxy.namespace), proxy_selector())
        services.append(PlatformService("egress-proxy", proxy_pods, [tcp(proxy.port)]))
    policies = [
        *consumer_passes(config, LIMITS[api]),
        *(p for tenant in config.tenants
          for p in monitoring_passes(tenant, cluster.monitoring.namespace, cluster.monitoring.pod_labels)),
        *(tenant_boundary(tenant.name, known, services) for tenant in config.tenants),
        tenants_baseline(cluster.dns.namespace, cluster.dns.pod_labels, cluster.dns.port),
    ]
    for policy in policies:
        check_size(policy, LIMITS[api])
    return [as_api(policy, api) for policy in policies]


def admission_policies(config: StackConfig) -> list[dict]:
    """With the cluster policies, the admission policy that refuses tenants' NetworkPolicies admitting addresses
    (the one widening the cluster policies cannot deny); none below Kubernetes 1.30, with a config warning."""
    cluster = config.cluster
    if cluster.admin_policy_api == NO_ADMIN_POLICIES or not tenant_admission_supported(cluster.kubernetes_version):
        return []
    return tenant_ingress_admission(cluster.admin_policy_api)
