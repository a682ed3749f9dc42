"""The NetworkPolicy envelope every builder shares."""

from __future__ import annotations

from kube.labels import POLICY_PATTERN, managed


def network_policy(name: str, namespace: str, pattern: str, spec: dict, annotations: dict | None = None) -> dict:
    metadata: dict = {"name": name, "namespace": namespace, "labels": {**managed(), POLICY_PATTERN: pattern}}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}


def tcp(port: int | str) -> dict:
    return {"protocol": "TCP", "port": port}
