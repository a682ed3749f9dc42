"""The cluster services the program relies on but does not deploy (DNS, monitoring), as the config describes
them. Analyses of a render add these so flows to DNS and from Prometheus can be proved, not assumed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kube.labels import NAMESPACE_NAME
from stackconfig.models import ClusterConfig

if TYPE_CHECKING:
    from analysis.reachability.model import Cluster

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


def context_objects(cluster: ClusterConfig) -> list[dict]:
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


def dns_endpoint(cluster: ClusterConfig) -> str:
    return f"{cluster.dns.namespace}/{DNS_WORKLOAD}"


def monitoring_endpoint(cluster: ClusterConfig) -> str:
    return f"{cluster.monitoring.namespace}/{MONITORING_WORKLOAD}"


def default_cluster() -> ClusterConfig:
    """The config's defaults for DNS, monitoring and the proxy's forbidden ranges, when no stack is named."""
    return ClusterConfig.model_validate({"cni": "unspecified"})


def missing_context(given: Cluster, cluster: ClusterConfig | None = None) -> list[dict]:
    """The stand-ins of `context_objects` that `given` lacks: a namespace not declared there, a DNS or
    monitoring workload when no workload of that namespace carries the configured pod labels."""
    from analysis.reachability.selectors import parse_selector

    cluster = cluster if cluster is not None else default_cluster()
    dns, monitoring = cluster.dns, cluster.monitoring
    have = {(w.namespace, w.name) for w in given.workloads}
    out = []
    for obj in context_objects(cluster):
        meta = obj["metadata"]
        if obj["kind"] == "Namespace":
            if meta["name"] in given.namespaces and given.namespaces[meta["name"]].declared:
                continue
        else:
            ns = meta["namespace"]
            labels = dns.pod_labels if ns == dns.namespace else monitoring.pod_labels
            selector = parse_selector({"matchLabels": dict(labels)}, "selector", [])
            if (ns, meta["name"]) in have or any(w.namespace == ns and selector.matches(w.labels)
                                                 for w in given.workloads):
                continue
        out.append(obj)
    return out
