"""A tenant's boundary in the admin tier (seed scenarios 3, 4 and 6, made tenant-proof)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kube.labels import NAMESPACE_NAME, TENANT, namespace_selector
from policies.cluster_policy import (
    ADMIN,
    BOUNDARY_PRIORITY,
    DENY,
    EVERYWHERE,
    PASS,
    cluster_network_policy,
    namespaces,
    networks,
    rule,
)


def other_tenants(tenant: str) -> dict:
    """Namespaces of every tenant but `tenant`: only the platform labels namespaces, tenants cannot."""
    return {"matchExpressions": [
        {"key": TENANT, "operator": "Exists"},
        {"key": NAMESPACE_NAME, "operator": "NotIn", "values": [tenant]},
    ]}


def unknown_namespaces(known: Sequence[str]) -> dict:
    """Namespaces the platform does not know: not a tenant's, not one of `known` (DNS, monitoring, the proxy, and
    the subject's own namespace, named so that it stays known whatever its labels say)."""
    return {"matchExpressions": [
        {"key": TENANT, "operator": "DoesNotExist"},
        {"key": NAMESPACE_NAME, "operator": "NotIn", "values": sorted(set(known))},
    ]}


def platform_namespaces(known: Sequence[str]) -> dict:
    """The platform's namespaces (DNS, monitoring, the proxy), by the name only the API server sets."""
    return {"matchExpressions": [{"key": NAMESPACE_NAME, "operator": "In", "values": sorted(set(known))}]}


@dataclass(frozen=True)
class PlatformService:
    """A platform service tenants may call (DNS, the egress proxy): its name, its pods as a peer, its ports."""

    name: str
    peer: dict
    protocols: list[dict]


def tenant_boundary(tenant: str, known: Sequence[str], services: Sequence[PlatformService] = ()) -> dict:
    """Scenarios 3 "namespace isolation", 4 "egress only via proxy" and 6 "per-customer isolation", where no
    NetworkPolicy of the tenant's can widen them (admin-tier Deny is final):

    - no flow to or from another tenant's namespace (the declared consumers are Passed before this, at
      CONSUMER_PRIORITY);
    - no flow to or from a namespace the platform does not know;
    - no ingress from the platform's namespaces (`known`: DNS, monitoring, the proxy): none of them opens
      connections to tenants but Prometheus, whose scrape of each app's metrics port is Passed before this, at
      MONITORING_PRIORITY. Tenant egress to DNS and the proxy is the platform namespaces' ingress, which this
      policy does not decide (its subject is the tenant), so it stays with their NetworkPolicies;
    - egress to pods of the tenant's own namespace, and to the platform's `services` (DNS pods on the DNS port,
      the proxy's pods on its port) is Passed to the namespace policies: within its namespace a tenant stays
      free, and the proxy stays the way out (its own NetworkPolicy, in a namespace tenants cannot write, decides
      which backends it accepts); any other egress to the platform's namespaces is denied;
    - egress to any other address (the internet, nodes, anything outside the pod network) is denied. The Pass
      before it matters: `networks` match pod addresses too.

    Ingress from outside the cluster cannot be expressed here: the API's ingress peers are namespaces and pods
    only. The namespace policies still decide it (default deny plus the load balancer's ranges)."""
    own = namespace_selector(tenant)
    return cluster_network_policy(
        f"tenancy-boundary.{tenant}", "tenant-boundary", ADMIN, BOUNDARY_PRIORITY, namespaces(own),
        ingress=[
            rule("deny-from-other-tenants", DENY, [namespaces(other_tenants(tenant))], "ingress"),
            rule("deny-from-unknown-namespaces", DENY, [namespaces(unknown_namespaces([*known, tenant]))], "ingress"),
            rule("deny-from-platform-namespaces", DENY, [namespaces(platform_namespaces(known))], "ingress"),
        ],
        egress=[
            rule("deny-to-other-tenants", DENY, [namespaces(other_tenants(tenant))], "egress"),
            rule("deny-to-unknown-namespaces", DENY, [namespaces(unknown_namespaces([*known, tenant]))], "egress"),
            rule("pass-to-own-namespace", PASS, [namespaces(own)], "egress"),
            *(rule(f"pass-to-{svc.name}", PASS, [svc.peer], "egress", svc.protocols) for svc in services),
            rule("deny-to-platform-namespaces", DENY, [namespaces(platform_namespaces(known))], "egress"),
            rule("deny-outside-cluster", DENY, [networks(EVERYWHERE)], "egress"),
        ],
        labels={TENANT: tenant},
    )
