"""The cluster services the program relies on but does not deploy (DNS, monitoring), as the config describes
them. Analyses of a render add these so flows to DNS and from Prometheus can be proved, not assumed."""

from __future__ import annotations

from kube.labels import NAMESPACE_NAME
from stackconfig.models import Cluster

DNS_WORKLOAD = "cluster-dns"
MONITORING_WORKLOAD = "prometheus"


def _namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {NAMESPACE_NAME: name}}}


def _deployment(namespace: str, name: str, labels: dict[str, str], ports: list[dict]) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": dict(labels)}, "template": {
            "metadata": {"labels": dict(labels)},
            "spec": {"containers": [{"name": name, "image": "context", "ports": ports}]},
        }},
    }


def context_objects(cluster: Cluster) -> list[dict]:
    dns, monitoring = cluster.dns, cluster.monitoring
    return [
        _namespace(dns.namespace),
        _deployment(dns.namespace, DNS_WORKLOAD, dns.pod_labels, [
            {"name": "dns", "containerPort": dns.port, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": dns.port, "protocol": "TCP"},
        ]),
        _namespace(monitoring.namespace),
        _deployment(monitoring.namespace, MONITORING_WORKLOAD, monitoring.pod_labels,
                    [{"name": "web", "containerPort": 9090, "protocol": "TCP"}]),
    ]


def dns_endpoint(cluster: Cluster) -> str:
    return f"{cluster.dns.namespace}/{DNS_WORKLOAD}"


def monitoring_endpoint(cluster: Cluster) -> str:
    return f"{cluster.monitoring.namespace}/{MONITORING_WORKLOAD}"
