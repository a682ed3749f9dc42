"""A declared flow between two groups of pods: the egress half at the source, the ingress half at the
destination (seed scenarios 2, 3, 5, 6). A connection needs both, so a flow is always two policies."""

from __future__ import annotations

from dataclasses import dataclass

from kube.labels import namespace_selector
from policies.manifest import network_policy, tcp


@dataclass(frozen=True)
class Pods:
    """Pods selected by `selector` in `namespace`."""

    namespace: str
    selector: dict

    def peer(self) -> dict:
        # namespaceSelector and podSelector in ONE peer: both must match (AND).
        return {"namespaceSelector": namespace_selector(self.namespace), "podSelector": self.selector}


def egress_to(name: str, pattern: str, source: Pods, destination: Pods, port: int) -> dict:
    """The source side of a flow: `source` pods may open connections to `destination` pods on TCP `port`."""
    return network_policy(
        name, source.namespace, pattern,
        {
            "podSelector": source.selector,
            "policyTypes": ["Egress"],
            "egress": [{"to": [destination.peer()], "ports": [tcp(port)]}],
        },
    )


def ingress_from(name: str, pattern: str, source: Pods, destination: Pods, port: int) -> dict:
    """The destination side of a flow: `destination` pods accept `source` pods on TCP `port`."""
    return network_policy(
        name, destination.namespace, pattern,
        {
            "podSelector": destination.selector,
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [source.peer()], "ports": [tcp(port)]}],
        },
    )


def allow_flow(name: str, pattern: str, source: Pods, destination: Pods, port: int) -> list[dict]:
    """Scenario 2 "restrict DB" (backend -> database), 5 "zero trust" (each tier reaches only its declared next
    tier) and 6 "per-customer isolation" (a declared consumer): the only way pods of this program talk."""
    return [
        egress_to(f"{name}-egress", pattern, source, destination, port),
        ingress_from(f"{name}-ingress", pattern, source, destination, port),
    ]
