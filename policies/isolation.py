"""Default deny (seed scenarios 1 and 5)."""

from __future__ import annotations

from policies.manifest import network_policy


def default_deny(namespace: str) -> dict:
    """Scenario 1 "default behaviour" and 5 "zero trust": select every pod of the namespace for both directions
    with no rules, so a pod accepts and initiates nothing that another policy does not declare."""
    return network_policy(
        "default-deny", namespace, "default-deny",
        {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    )
