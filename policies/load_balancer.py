"""External load-balancer ingress (seed scenario 9)."""

from __future__ import annotations

from typing import Sequence

from kube.endpoints import Network
from kube.labels import tier_selector, workload_name
from policies.manifest import network_policy, tcp


def load_balancer_ingress(namespace: str, app: str, port: int, source_ranges: Sequence[Network]) -> dict:
    """Scenario 9 "allowing external traffic": the frontend accepts the load balancer's client CIDRs on its port
    and nothing else from outside. It works because the Service keeps client source IPs
    (`externalTrafficPolicy: Local`); with `Cluster` the source would be a node IP and no CIDR would match."""
    return network_policy(
        f"{workload_name(app, 'frontend')}-from-load-balancer", namespace, "load-balancer-ingress",
        {
            "podSelector": tier_selector(app, "frontend"),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": str(cidr)}} for cidr in source_ranges], "ports": [tcp(port)]}],
        },
    )
