"""Building blocks: the dev render as editable manifests, and generated clusters of any size."""

from __future__ import annotations

import copy

from analysis.reachability import load_objects


def dev_objects(render) -> list[dict]:
    return copy.deepcopy([doc for docs in render.by_file().values() for doc in docs])


def find(objs: list[dict], kind: str, name: str, namespace: str | None = None) -> dict:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name
                and o["metadata"].get("namespace") == namespace)


def drop(objs: list[dict], kind: str, name: str, namespace: str | None = None) -> list[dict]:
    gone = find(objs, kind, name, namespace)
    return [o for o in objs if o is not gone]


def load(objs: list[dict]):
    return load_objects(objs)


def tenant_cluster(tenants: int, isolated: bool) -> list[dict]:
    """`tenants` namespaces with a backend and a database each. isolated: each namespace talks only to itself
    (default deny plus an allowance within the namespace); otherwise no policies, everyone reaches everyone."""
    objs = []
    for t in range(tenants):
        ns = f"tenant-{t:03d}"
        objs.append({"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": ns, "labels": {"tenancy/tenant": ns}}})
        for tier in ("backend", "database"):
            container = {"name": "c", "ports": [{"containerPort": 8080}]}
            objs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": f"app-{tier}", "namespace": ns},
                         "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/component": tier}},
                                               "spec": {"containers": [container]}}}})
        if isolated:
            objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": "default-deny", "namespace": ns},
                         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
            objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": "within-namespace", "namespace": ns},
                         "spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}],
                                  "egress": [{"to": [{"podSelector": {}}]}]}})
    return objs
