"""Monitoring ingress (seed scenario 10)."""

from __future__ import annotations

from kube.labels import METRICS_PORT_NAME, namespace_selector
from policies.manifest import network_policy, tcp


def monitoring_ingress(namespace: str, monitoring_namespace: str, monitoring_pod_labels: dict[str, str]) -> dict:
    """Scenario 10 "monitoring": Prometheus pods of the monitoring namespace may reach every pod of the namespace,
    on the port named `metrics` only. The named port resolves per destination pod, so one policy serves apps
    with different metrics ports without opening any app's metrics port number on another app's pods."""
    return network_policy(
        "allow-monitoring-ingress", namespace, "monitoring-ingress",
        {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{
                    "namespaceSelector": namespace_selector(monitoring_namespace),
                    "podSelector": {"matchLabels": dict(monitoring_pod_labels)},
                }],
                "ports": [tcp(METRICS_PORT_NAME)],
            }],
        },
    )
