"""DNS egress (needed by every zero-trust namespace; scenario 5)."""

from __future__ import annotations

from kube.labels import namespace_selector
from policies.manifest import network_policy


def dns_egress(namespace: str, dns_namespace: str, dns_pod_labels: dict[str, str], port: int = 53) -> dict:
    """Scenario 5 "zero trust": with egress denied by default, name resolution must be allowed explicitly — and only
    to the cluster DNS pods. One peer carries both selectors so they AND: DNS pods in the DNS namespace, not every
    pod in kube-system nor pods labelled k8s-app=kube-dns anywhere."""
    return network_policy(
        "allow-dns-egress", namespace, "dns-egress",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": namespace_selector(dns_namespace),
                    "podSelector": {"matchLabels": dict(dns_pod_labels)},
                }],
                "ports": [{"protocol": "UDP", "port": port}, {"protocol": "TCP", "port": port}],
            }],
        },
    )
