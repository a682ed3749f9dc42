"""`lab apply W PATH...`: server-side apply manifests to the lab, wait until every workload's pods are Ready and
kube-router has programmed the result.

Order: CustomResourceDefinitions and Namespaces first (waiting until the CRDs are established and each namespace has
its `default` ServiceAccount), then every other object that is not a workload (policies, Services, quotas, ...),
then the workloads. Then it waits for Deployments, StatefulSets, DaemonSets, ReplicaSets and bare Pods to be Ready,
and finally for a kube-router sync that started after all of that: a marker NetworkPolicy in the lab's own
`tenancy-lab` namespace is replaced, and the wait ends when kube-router's rules name the new marker and every Ready
pod. Established connections are then forgotten (conntrack flush) so that probes judge the new rules.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from tenancy.lab import netns, state
from tenancy.lab.state import LabError, LabState

FIRST_KINDS = ("CustomResourceDefinition", "Namespace")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod",
                  "ReplicationController")
LAB_NAMESPACE = "tenancy-lab"
FIELD_MANAGER = "tenancy-lab"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("apply", help="server-side apply manifests and wait until pods are Ready",
                                   description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, directories or - (multi-doc YAML, JSON)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for readiness")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        state.require_linux_root()
        docs = load(args.paths)
        started = time.monotonic()
        summary = apply(args.workdir, docs, timeout=args.timeout)
    except LabError as exc:
        return state.fail(str(exc))
    print(f"lab apply: {summary} in {time.monotonic() - started:.1f}s")
    return 0


def load(paths: Sequence[str]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in paths:
        if path == "-":
            docs.extend(_parse(sys.stdin.read(), "-"))
            continue
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml", ".json") and f.is_file())
        elif p.is_file():
            files = [p]
        else:
            raise LabError(f"{path}: no such file or directory")
        for file in files:
            docs.extend(_parse(file.read_text(), str(file)))
    return docs


def _parse(text: str, origin: str) -> list[dict[str, Any]]:
    try:
        raw = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise LabError(f"{origin}: not YAML/JSON: {exc}") from None
    out: list[dict[str, Any]] = []
    for doc in raw:
        if not doc:
            continue
        if not isinstance(doc, dict) or "kind" not in doc:
            raise LabError(f"{origin}: a document without kind")
        if doc["kind"].endswith("List") and isinstance(doc.get("items"), list):
            out.extend(d for d in doc["items"] if isinstance(d, dict))
        else:
            out.append(doc)
    return out


class Kubectl:
    def __init__(self, lab: LabState) -> None:
        from tenancy.lab.up import find_binary

        binary = find_binary("kubectl")
        if binary is None:
            raise LabError("kubectl not built; run `python -m tenancy lab build` first")
        self.argv = ["ip", "netns", "exec", lab.node_netns, str(binary), "--kubeconfig", lab.kubeconfig]

    def __call__(self, *args: str, input_text: str | None = None, check: bool = True) -> str:
        proc = subprocess.run([*self.argv, *args], input=input_text, capture_output=True, text=True, check=False,
                              timeout=300)
        if check and proc.returncode != 0:
            raise LabError(f"kubectl {' '.join(args[:2])}: {proc.stderr.strip() or proc.stdout.strip()}")
        return proc.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self("get", *args, "-o", "json"))

    def apply(self, docs: Iterable[dict[str, Any]]) -> None:
        docs = list(docs)
        if not docs:
            return
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="tenancy-lab-apply-") as tmp:
            # JSON documents, not PyYAML's YAML: PyYAML quotes yes/no/on/off but leaves y and n bare, which
            # kubectl's YAML reader takes for booleans - a label `ns: y` becomes true and the object is refused.
            tmp.write("".join(f"---\n{json.dumps(doc)}\n" for doc in docs))
            tmp.flush()
            self("apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}", "-f", tmp.name)


def apply(workdir: Path, docs: list[dict[str, Any]], timeout: float = 300.0) -> str:
    workdir = workdir.absolute()
    lab = LabState.load(workdir)
    if not netns.exists(lab.node_netns):
        raise LabError(f"the lab at {workdir} is not running; start it with `tenancy lab up --workdir {workdir}`")
    kubectl = Kubectl(lab)
    deadline = time.monotonic() + timeout
    first = [d for d in docs if d.get("kind") in FIRST_KINDS]
    workloads = [d for d in docs if d.get("kind") in WORKLOAD_KINDS]
    rest = [d for d in docs if d.get("kind") not in FIRST_KINDS + WORKLOAD_KINDS]
    lab_ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": LAB_NAMESPACE}}
    kubectl.apply([lab_ns, *first])
    namespaces = sorted({d["metadata"]["name"] for d in first if d["kind"] == "Namespace"}
                        | {d.get("metadata", {}).get("namespace") for d in rest + workloads} - {None})
    wait(lambda: first_ready(kubectl, first, namespaces), deadline, "namespaces and CRDs")
    kubectl.apply(rest)
    kubectl.apply(workloads)
    pending: list[str] = []

    def workloads_ready() -> bool:
        nonlocal pending
        pending = _unready(kubectl, workloads)
        return not pending

    wait(workloads_ready, deadline, "workloads", lambda: ", ".join(pending[:10]))
    pods = sync_dataplane(workdir, lab, kubectl, deadline)
    return f"{len(docs)} objects applied, {pods} pods Ready, kube-router synced"


def wait(ready: Any, deadline: float, what: str, detail: Any = None) -> None:
    while True:
        if ready():
            return
        if time.monotonic() > deadline:
            extra = f": {detail()}" if detail else ""
            raise LabError(f"timed out waiting for {what}{extra}")
        time.sleep(0.3)


def first_ready(kubectl: Kubectl, first: list[dict[str, Any]], namespaces: list[str]) -> bool:
    for doc in first:
        if doc["kind"] == "CustomResourceDefinition":
            crd = kubectl.json("crd", doc["metadata"]["name"])
            conditions = crd.get("status", {}).get("conditions") or []
            if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return False
    if namespaces:
        accounts = kubectl.json("serviceaccounts", "-A", "--field-selector", "metadata.name=default")
        have = {item["metadata"]["namespace"] for item in accounts.get("items", [])}
        if not set(namespaces) <= have:
            return False
    return True


def _unready(kubectl: Kubectl, workloads: list[dict[str, Any]]) -> list[str]:
    if not workloads:
        return []
    live = kubectl.json("deployments,statefulsets,daemonsets,replicasets,pods", "-A")
    index = {(i["kind"], i["metadata"]["namespace"], i["metadata"]["name"]): i for i in live.get("items", [])}
    pending = []
    for doc in workloads:
        kind, meta = doc["kind"], doc.get("metadata", {})
        key = (kind, meta.get("namespace", "default"), meta.get("name"))
        obj = index.get(key)
        if kind in ("Job", "CronJob", "ReplicationController"):
            continue  # run-to-completion kinds: their pods get namespaces as they come
        if obj is None or not _is_ready(kind, obj):
            pending.append(f"{kind} {key[1]}/{key[2]}")
    return pending


def _is_ready(kind: str, obj: dict[str, Any]) -> bool:
    spec, status, meta = obj.get("spec", {}), obj.get("status", {}), obj.get("metadata", {})
    if kind == "Pod":
        return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return False
    if kind == "DaemonSet":
        return status.get("numberReady", 0) >= status.get("desiredNumberScheduled", 0) \
            and status.get("updatedNumberScheduled", 0) >= status.get("desiredNumberScheduled", 0)
    replicas = spec.get("replicas", 1)
    if kind == "Deployment":
        return status.get("readyReplicas", 0) >= replicas and status.get("updatedReplicas", 0) >= replicas \
            and status.get("replicas", 0) == replicas
    return status.get("readyReplicas", 0) >= replicas


def sync_dataplane(workdir: Path, lab: LabState, kubectl: Kubectl, deadline: float) -> int:
    """Wait for a kube-router sync that saw everything applied so far; returns the number of Ready pods."""
    marker_file = workdir / "marker.json"
    try:
        previous = json.loads(marker_file.read_text())["n"]
    except (OSError, ValueError, KeyError):
        previous = 0
    n = previous + 1
    name = f"lab-sync-{n}"
    marker = {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": LAB_NAMESPACE},
        "spec": {"podSelector": {"matchLabels": {"tenancy.lab/sync-marker": "none"}}, "policyTypes": ["Ingress"],
                 "ingress": [{"from": [{"ipBlock": {"cidr": f"192.0.2.{n % 250 + 1}/32"}}]}]},
    }
    kubectl.apply([marker])
    marker_file.write_text(json.dumps({"n": n}) + "\n")
    want_marker = f"policy name: {name} namespace {LAB_NAMESPACE}"
    pods_file = workdir / state.PODS_FILE
    missing: list[str] = []

    def synced() -> bool:
        nonlocal missing
        saved = netns.run(["iptables-save", "-t", "filter"], netns=lab.node_netns, check=False)
        if saved.returncode != 0:
            # iptables-nft reading while kube-router restores can fail ("Set with index N in kernel doesn't
            # exist"): not synced yet, ask again.
            missing = [f"iptables-save: {saved.stderr.strip() or f'exit {saved.returncode}'}"]
            return False
        rules = saved.stdout
        pods = [p for p in json.loads(pods_file.read_text()).get("pods", []) if p.get("ready")]
        missing = [f"{p['namespace']}/{p['name']}" for p in pods
                   if f"POD name:{p['name']} namespace: {p['namespace']}" not in rules]
        if want_marker not in rules:
            missing.insert(0, f"marker {name}")
        return not missing

    wait(synced, deadline, "kube-router to program the policies", lambda: ", ".join(missing[:10]))
    if previous:
        kubectl("delete", "networkpolicy", "-n", LAB_NAMESPACE, f"lab-sync-{previous}", "--ignore-not-found",
                "--wait=false", check=False)
    netns.run(["conntrack", "-F"], netns=lab.node_netns, check=False)
    return len([p for p in json.loads(pods_file.read_text()).get("pods", []) if p.get("ready")])
