"""Default deny for every tenant namespace in the baseline tier (seed scenarios 1 and 5, surviving deletion)."""

from __future__ import annotations

from kube.labels import TENANT, namespace_selector
from policies.cluster_policy import (
    ACCEPT,
    BASELINE,
    BASELINE_PRIORITY,
    DENY,
    EVERYWHERE,
    cluster_network_policy,
    namespaces,
    networks,
    pods,
    rule,
    tcp,
    udp,
)


def tenants_baseline(dns_namespace: str, dns_pod_labels: dict[str, str], dns_port: int) -> dict:
    """Scenarios 1 "default behaviour" and 5 "zero trust" for pods no NetworkPolicy selects: the baseline tier
    decides only for them, so a tenant that deletes its namespace's default-deny (or every policy) gets deny
    in both directions, with DNS still resolving — never the Kubernetes default of allow-all. A tenant's own
    NetworkPolicies still override this for its pods, within what the admin tier allows.

    Ingress from outside the cluster is not covered (the API has no ingress peer for addresses)."""
    tenants = {"matchExpressions": [{"key": TENANT, "operator": "Exists"}]}
    dns = pods(namespace_selector(dns_namespace), {"matchLabels": dict(dns_pod_labels)})
    return cluster_network_policy(
        "tenancy-baseline", "baseline-deny", BASELINE, BASELINE_PRIORITY, namespaces(tenants),
        ingress=[rule("deny-all-ingress", DENY, [namespaces({})], "ingress")],
        egress=[
            rule("accept-dns", ACCEPT, [dns], "egress", [udp(dns_port), tcp(dns_port)]),
            rule("deny-all-egress", DENY, [namespaces({}), networks(EVERYWHERE)], "egress"),
        ],
    )
