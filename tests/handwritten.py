"""Hand-written manifests for tests that break a render on purpose: policies a tenant might author, selectors of
the label contract, lookups in a manifest list. A helper module, not a test module, so any test may import it."""

from __future__ import annotations


def netpol(namespace: str, name: str, spec: dict) -> dict:
    """A policy a tenant writes by hand: no managed-by label."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def tier(app: str, component: str) -> dict:
    return {"matchLabels": {"app.kubernetes.io/part-of": app, "app.kubernetes.io/component": component}}


def find(manifests: list[dict], namespace: str, name: str) -> dict:
    return next(m for m in manifests if m["kind"] == "NetworkPolicy"
                and (m["metadata"]["namespace"], m["metadata"]["name"]) == (namespace, name))
