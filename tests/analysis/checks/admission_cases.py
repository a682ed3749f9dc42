"""NetworkPolicies a tenant might write, with what the program's admission policy (policies/tenant_admission.py)
does with each: shared by test_admission.py (the model `check` uses) and tests/lab/test_admission.py (the lab's
real API server), so both are held to one truth table."""

from __future__ import annotations

from typing import Any

# id -> (spec, index of the validation that refuses it, or None when admitted)
CASES: dict[str, tuple[dict[str, Any], int | None]] = {
    "allow-all": ({"podSelector": {}, "ingress": [{}], "egress": [{}], "policyTypes": ["Ingress", "Egress"]}, 0),
    "ingress-rule-with-ports-only": ({"podSelector": {}, "ingress": [{"ports": [{"port": 8080}]}]}, 0),
    "ingress-from-empty-list": ({"podSelector": {}, "ingress": [{"from": []}]}, 0),
    "ingress-from-everywhere": ({"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}, 1),
    "ingress-from-one-address": (
        {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}, {"ipBlock": {"cidr": "198.51.100.7/32"}}]}]}, 1),
    "second-rule-opens": ({"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}, {}]}, 0),
    "ingress-from-own-pods": ({"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}, None),
    "ingress-from-every-namespace": ({"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}}]}]}, None),
    "deny-all-ingress": ({"podSelector": {}, "policyTypes": ["Ingress"]}, None),
    "egress-to-everywhere": ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
                              "policyTypes": ["Egress"]}, None),
    "egress-allow-all": ({"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]}, None),
}


def network_policy(case: str, namespace: str, **metadata: Any) -> dict[str, Any]:
    spec, _ = CASES[case]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": case, "namespace": namespace, **metadata}, "spec": spec}
