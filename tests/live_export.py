"""A live-shaped export of the dev stack, as `kubectl get ns,pods,deploy,sts,ds,job,netpol -A -o yaml` returns it:
controllers next to their running pods, which carry the labels the controllers and the API server add
(pod-template-hash, statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index, controller-revision-hash,
batch.kubernetes.io/job-name) and the status (phase, addresses) a render does not have."""

from __future__ import annotations

import copy
import itertools

_ips = itertools.count(10)


def _status(phase: str = "Running", host_network: bool = False) -> dict:
    node = "10.0.0.5"
    ip = node if host_network else f"10.244.0.{next(_ips)}"
    return {"phase": phase, "hostIP": node, "podIP": ip, "podIPs": [{"ip": ip}]}


def pod(namespace: str, name: str, labels: dict, spec: dict | None = None, owner: tuple[str, str] | None = None,
        phase: str = "Running") -> dict:
    spec = copy.deepcopy(spec) if spec is not None else {"containers": [{"name": "c", "image": "busybox"}]}
    meta: dict = {"name": name, "namespace": namespace, "labels": dict(labels), "uid": f"uid-{name}"}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True,
                                    "blockOwnerDeletion": True, "uid": f"uid-{owner[1]}"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": _status(phase, bool(spec.get("hostNetwork")))}


def netpol(namespace: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def running_pods(obj: dict) -> list[dict]:
    """The pods a Deployment or StatefulSet of the render would be running, with their controller-added labels."""
    meta, spec = obj["metadata"], obj["spec"]
    ns, name, template = meta["namespace"], meta["name"], spec["template"]
    labels = template["metadata"]["labels"]
    out = []
    for i in range(spec.get("replicas", 1)):
        if obj["kind"] == "Deployment":
            extra = {"pod-template-hash": "7d9f8c6b5"}
            out.append(pod(ns, f"{name}-7d9f8c6b5-{'abcde'[i % 5]}x{i}", {**labels, **extra}, template["spec"],
                           ("ReplicaSet", f"{name}-7d9f8c6b5")))
        else:
            extra = {"statefulset.kubernetes.io/pod-name": f"{name}-{i}", "apps.kubernetes.io/pod-index": str(i),
                     "controller-revision-hash": f"{name}-6c8d9f7b4"}
            out.append(pod(ns, f"{name}-{i}", {**labels, **extra}, template["spec"], ("StatefulSet", name)))
    return out


def export(manifests: list[dict], replicas: dict[str, int] | None = None) -> list[dict]:
    """The render as a cluster would return it: namespaces labelled by the API server, every Deployment and
    StatefulSet with its running pods (`replicas` overrides per workload name)."""
    out = []
    for obj in copy.deepcopy(manifests):
        if obj["kind"] == "Namespace":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        if obj["kind"] in ("Deployment", "StatefulSet"):
            if replicas and obj["metadata"]["name"] in replicas:
                obj["spec"]["replicas"] = replicas[obj["metadata"]["name"]]
            out.extend(running_pods(obj))
        out.append(obj)
    return out
