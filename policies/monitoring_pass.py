"""Monitoring's scrape in the admin tier (seed scenario 10, tenant-proof)."""

from __future__ import annotations

from collections import defaultdict

from kube.labels import PART_OF, TENANT, namespace_selector
from policies.cluster_policy import ADMIN, MONITORING_PRIORITY, PASS, cluster_network_policy, pods, rule, tcp
from stackconfig.models import TenantConfig


def monitoring_passes(tenant: TenantConfig, monitoring_namespace: str, monitoring_pod_labels: dict[str, str]) -> list[dict]:
    """Scenario 10 "monitoring", the one platform flow into a tenant: Prometheus pods (the monitoring namespace by
    `kubernetes.io/metadata.name` AND its pod labels) are Passed to the namespace policies on each app's metrics
    port, ahead of the tenant boundary (MONITORING_PRIORITY < BOUNDARY_PRIORITY), which Denies every other flow
    from the platform's namespaces. A tenant's allow-all therefore opens Prometheus nothing but the metrics port.

    The subject is the app's pods, so one app's metrics port is never passed to another's: one object per metrics
    port, its subject the tenant's apps that use it (part-of In [...]); one rule, one peer each."""
    by_port: dict[int, list[str]] = defaultdict(list)
    for app in tenant.apps:
        by_port[app.metrics_port].append(app.name)
    prometheus = pods(namespace_selector(monitoring_namespace), {"matchLabels": dict(monitoring_pod_labels)})
    return [
        cluster_network_policy(
            f"tenancy-monitoring.{tenant.name}.{port}", "monitoring-pass", ADMIN, MONITORING_PRIORITY,
            pods(namespace_selector(tenant.name),
                 {"matchExpressions": [{"key": PART_OF, "operator": "In", "values": sorted(apps)}]}),
            ingress=[rule(f"pass-monitoring-to-port-{port}", PASS, [prometheus], "ingress", [tcp(port)])],
            labels={TENANT: tenant.name},
        )
        for port, apps in sorted(by_port.items())
    ]
