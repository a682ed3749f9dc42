"""Egress only via the platform proxy (seed scenario 4)."""

from __future__ import annotations

import ipaddress
from typing import Sequence

from kube.endpoints import Network
from kube.labels import proxy_selector, tier_selector
from policies.flows import Pods
from policies.manifest import network_policy, tcp

# Never reachable from the proxy whatever clusterCidrs says: cloud metadata endpoints (169.254.169.254, fd00:ec2::254)
# live in link-local space and hand out node credentials.
ALWAYS_EXCLUDED = tuple(ipaddress.ip_network(c) for c in ("169.254.0.0/16", "fe80::/10", "fc00::/7"))


def proxy_ingress(namespace: str, port: int, backends: Sequence[tuple[str, str]]) -> dict:
    """Scenario 4: the proxy accepts exactly the backends declared with internet egress, on its port: each as its
    tenant's namespace by `kubernetes.io/metadata.name` (the one namespace label nobody can forge) AND the app's
    backend pods by part-of + component. Labels anyone can set (a `tenancy/tenant` copied onto another namespace,
    `tenancy/internet-egress` on any pod) admit nothing. With no such backend the proxy admits no one."""
    peers = [Pods(tenant, tier_selector(app, "backend")).peer() for tenant, app in sorted(set(backends))]
    return network_policy(
        "egress-proxy-from-tenants", namespace, "egress-proxy-ingress",
        {
            "podSelector": proxy_selector(),
            "policyTypes": ["Ingress"],
            # An empty `from` would admit everyone: no declared backend means no ingress rule at all.
            "ingress": [{"from": peers, "ports": [tcp(port)]}] if peers else [],
        },
    )


def internet_blocks(cluster_cidrs: Sequence[Network]) -> list[dict]:
    """ipBlocks for "the internet": everything except the cluster/private ranges and link-local, per family."""
    excluded = [*cluster_cidrs, *ALWAYS_EXCLUDED]
    blocks = []
    for everything in (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")):
        holes = [str(n) for n in sorted({n for n in excluded if n.version == everything.version})]
        block: dict = {"cidr": str(everything)}
        if holes:
            block["except"] = holes
        blocks.append({"ipBlock": block})
    return blocks


def proxy_internet_egress(namespace: str, cluster_cidrs: Sequence[Network], ports: list[int]) -> dict:
    """Scenario 4: the proxy reaches the internet on the allowed ports, but no cluster or private range."""
    return network_policy(
        "egress-proxy-to-internet", namespace, "egress-proxy-internet",
        {
            "podSelector": proxy_selector(),
            "policyTypes": ["Egress"],
            "egress": [{"to": internet_blocks(cluster_cidrs), "ports": [tcp(p) for p in ports]}],
        },
    )
