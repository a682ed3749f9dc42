"""The lab's node agent: plays kubelet (and a little cloud controller) for the one Node of the lab.

Runs inside the node namespace (`python -m tenancy.lab.nodeagent --workdir W`), talking to the API server with the
admin kubeconfig. It
- registers the Node (spec.podCIDR, InternalIP = the bridge's address, Ready) and renews its Lease;
- binds every unscheduled Pod to the Node (the lab has no scheduler);
- gives every Pod bound to the Node a network namespace with a veth on the bridge, answering on every port
  (responder), and reports it Running and Ready with its podIP and hostIP;
- completes deletions: removes the namespace and deletes the Pod with grace period 0;
- provisions a PersistentVolume for every pending claim (and removes released ones), so StatefulSets' claims bind;
- gives every LoadBalancer Service an ingress IP from a documentation range;
- writes W/pods.json (every pod: namespace, name, IP, namespace name, readiness, owning workloads) for the CLI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tenancy.lab import netns, state, topology
from tenancy.lab.responder import Responder

log = logging.getLogger("tenancy.lab.nodeagent")

NODE_NAME = "lab-node"
STORAGE_CLASS = "lab"
LEASE_SECONDS = 40
# The client would send a dict patch as a JSON patch (the first type it lists): say merge patch.
MERGE = "application/merge-patch+json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_micro() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Agent:
    def __init__(self, workdir: Path, lab_id: str) -> None:
        from kubernetes import client, config

        self.workdir = workdir
        self.names = topology.Names(lab_id)
        api_client = config.new_client_from_config(str(workdir / "admin.kubeconfig"))
        self.api = api_client
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.coord = client.CoordinationV1Api(api_client)
        self.storage = client.StorageV1Api(api_client)
        self.responder = Responder()
        self.responder.add(self.names.outside)
        self.lock = threading.RLock()
        self.sandboxes: dict[str, dict[str, Any]] = {}  # pod uid -> record
        self.used: set[int] = set()
        self.lb_used: set[str] = set()
        self.owner_cache: dict[tuple[str, str, str], list[str]] = {}
        self.stopping = threading.Event()

    # -- node -------------------------------------------------------------------------------------------------
    def register_node(self) -> None:
        from kubernetes.client.exceptions import ApiException

        body = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE_NAME, "labels": {
                "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/tenancy-lab": ""}},
            "spec": {"podCIDR": str(topology.POD_CIDR), "podCIDRs": [str(topology.POD_CIDR)]},
        }
        try:
            self.core.create_node(body)
        except ApiException as exc:
            if exc.status != 409:
                raise
        self.post_node_status()
        try:
            self.storage.create_storage_class({
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": STORAGE_CLASS,
                             "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                "provisioner": "tenancy.lab/node-agent", "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate"})
        except ApiException as exc:
            if exc.status != 409:
                raise

    def post_node_status(self) -> None:
        now = _now()
        conditions = [
            {"type": kind, "status": "False", "reason": f"KubeletHas{reason}", "message": "tenancy lab",
             "lastHeartbeatTime": now, "lastTransitionTime": now}
            for kind, reason in (("MemoryPressure", "SufficientMemory"), ("DiskPressure", "NoDiskPressure"),
                                 ("PIDPressure", "SufficientPID"))
        ] + [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "tenancy lab node agent",
              "lastHeartbeatTime": now, "lastTransitionTime": now}]
        resources = {"cpu": "64", "memory": "256Gi", "pods": "1000", "ephemeral-storage": "1Ti"}
        status = {
            "addresses": [{"type": "InternalIP", "address": topology.NODE_IP}, {"type": "Hostname", "address": NODE_NAME}],
            "capacity": resources, "allocatable": resources, "conditions": conditions,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": "tenancy-lab", "containerRuntimeVersion": "tenancy-lab://1",
                         "kernelVersion": "lab", "kubeProxyVersion": "", "kubeletVersion": "v1.36.0",
                         "machineID": "tenancy-lab", "operatingSystem": "linux", "osImage": "tenancy lab",
                         "systemUUID": "tenancy-lab"},
        }
        self.core.patch_node_status(NODE_NAME, {"status": status}, _content_type=MERGE)
        # Admission taints a new Node not-ready; the node lifecycle controller (off in the lab) would lift it, and
        # until then the DaemonSet controller makes no pods for the Node.
        self.core.patch_node(NODE_NAME, {"spec": {"taints": None}}, _content_type=MERGE)

    def renew_lease_forever(self) -> None:
        from kubernetes.client.exceptions import ApiException

        wait = 0.0
        while not self.stopping.wait(wait):
            wait = 10.0
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": NODE_NAME, "namespace": "kube-node-lease"},
                    "spec": {"holderIdentity": NODE_NAME, "leaseDurationSeconds": LEASE_SECONDS,
                             "renewTime": _now_micro()}}
            try:
                try:
                    self.coord.patch_namespaced_lease(NODE_NAME, "kube-node-lease", {"spec": body["spec"]},
                                                      _content_type=MERGE)
                except ApiException as exc:
                    if exc.status != 404:
                        raise
                    self.coord.create_namespaced_lease("kube-node-lease", body)
                self.post_node_status()
            except Exception as exc:  # noqa: BLE001 - keep renewing
                log.warning("lease renewal failed: %s", exc)

    # -- pods -------------------------------------------------------------------------------------------------
    def on_pod(self, kind: str, pod: dict[str, Any]) -> None:
        meta, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
        uid = meta["uid"]
        if kind == "DELETED":
            self.teardown(uid)
            return
        node = spec.get("nodeName")
        if meta.get("deletionTimestamp"):
            if not node or node == NODE_NAME:
                self.teardown(uid)
                self.finalize(meta)
            return
        if not node:
            self.bind(meta)
            return
        if node != NODE_NAME or status.get("phase") in ("Succeeded", "Failed"):
            return
        with self.lock:
            record = self.sandboxes.get(uid)
        if record is None:
            record = self.sandbox(pod)
        # pods.json first: whoever sees the pod Ready in the API must find it there.
        with self.lock:
            changed = not record["ready"] or record["labels"] != (meta.get("labels") or {})
            record["ready"] = True
            record["labels"] = meta.get("labels") or {}
        if changed:
            self.write_pods()
        if status.get("podIP") != record["ip"] or status.get("phase") != "Running" or not _ready(status):
            self.report_running(pod, record)

    def bind(self, meta: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": meta["name"], "uid": meta["uid"]},
                "target": {"apiVersion": "v1", "kind": "Node", "name": NODE_NAME}}
        try:
            self.core.create_namespaced_pod_binding(meta["name"], meta["namespace"], body, _preload_content=False)
        except ApiException as exc:
            if exc.status not in (404, 409):
                log.warning("binding %s/%s: %s", meta["namespace"], meta["name"], exc.reason)

    def sandbox(self, pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod["metadata"]
        with self.lock:
            index = next(i for i in range(1, 100000) if i not in self.used)
            self.used.add(index)
        ip = topology.pod_ip(index)
        name = self.names.pod(index)
        netns.delete(name)
        topology.add_pod(self.names, index, ip)
        self.responder.add(name)
        record = {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"], "ip": ip,
                  "netns": name, "index": index, "ready": False, "labels": meta.get("labels") or {},
                  "workloads": self.workloads(meta)}
        with self.lock:
            self.sandboxes[meta["uid"]] = record
        log.info("pod %s/%s: namespace %s, %s", meta["namespace"], meta["name"], name, ip)
        return record

    def report_running(self, pod: dict[str, Any], record: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        now = _now()
        spec = pod.get("spec", {})
        conditions = [{"type": t, "status": "True", "lastTransitionTime": now, "lastProbeTime": None}
                      for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                "PodScheduled")]
        containers = [{"name": c["name"], "image": c.get("image", ""), "imageID": "",
                       "containerID": f"lab://{record['uid']}/{c['name']}", "ready": True, "started": True,
                       "restartCount": 0, "state": {"running": {"startedAt": now}}}
                      for c in spec.get("containers", [])]
        inits = [{"name": c["name"], "image": c.get("image", ""), "imageID": "",
                  "containerID": f"lab://{record['uid']}/{c['name']}", "ready": True, "started": False,
                  "restartCount": 0,
                  "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now,
                                           "finishedAt": now}}}
                 for c in spec.get("initContainers", [])]
        status = {"phase": "Running", "hostIP": topology.NODE_IP, "hostIPs": [{"ip": topology.NODE_IP}],
                  "podIP": record["ip"], "podIPs": [{"ip": record["ip"]}], "startTime": now,
                  "conditions": conditions, "containerStatuses": containers, "initContainerStatuses": inits,
                  "qosClass": pod.get("status", {}).get("qosClass") or "BestEffort"}
        meta = pod["metadata"]
        try:
            self.core.patch_namespaced_pod_status(meta["name"], meta["namespace"], {"status": status},
                                                  _preload_content=False, _content_type=MERGE)
        except ApiException as exc:
            if exc.status != 404:
                log.warning("status of %s/%s: %s %s", meta["namespace"], meta["name"], exc.status, exc.body)

    def teardown(self, uid: str) -> None:
        with self.lock:
            record = self.sandboxes.pop(uid, None)
        if record is None:
            return
        self.responder.remove(record["netns"])
        topology.remove_pod(self.names, record["index"])
        with self.lock:
            self.used.discard(record["index"])
        log.info("pod %s/%s: namespace %s removed", record["namespace"], record["name"], record["netns"])
        self.write_pods()

    def finalize(self, meta: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.core.delete_namespaced_pod(meta["name"], meta["namespace"], grace_period_seconds=0,
                                            body={"gracePeriodSeconds": 0,
                                                  "preconditions": {"uid": meta["uid"]}},
                                            _preload_content=False)
        except ApiException as exc:
            if exc.status not in (404, 409):
                log.warning("finalizing %s/%s: %s", meta["namespace"], meta["name"], exc.reason)

    def workloads(self, meta: dict[str, Any]) -> list[str]:
        """The pod's own name and every controller above it (ReplicaSet -> Deployment, Job -> CronJob)."""
        names = [meta["name"]]
        namespace = meta["namespace"]
        owner = _controller(meta)
        depth = 0
        while owner is not None and depth < 4:
            kind, name = owner
            names.append(name)
            key = (namespace, kind, name)
            parent = self.owner_cache.get(key)
            if parent is None:
                parent = self._parent(namespace, kind, name)
                self.owner_cache[key] = parent
            owner = (parent[0], parent[1]) if parent else None
            depth += 1
        return names

    def _parent(self, namespace: str, kind: str, name: str) -> list[str]:
        read: Callable[..., Any] | None = {
            "ReplicaSet": self.apps.read_namespaced_replica_set, "Job": self.batch.read_namespaced_job,
        }.get(kind)
        if read is None:
            return []
        try:
            raw = read(name, namespace, _preload_content=False)
        except Exception:  # noqa: BLE001 - an unreadable owner just ends the chain
            return []
        parent = _controller(json.loads(raw.data)["metadata"])
        return list(parent) if parent else []

    def write_pods(self) -> None:
        with self.lock:
            pods = sorted((dict(r) for r in self.sandboxes.values()), key=lambda r: (r["namespace"], r["name"]))
        path = self.workdir / state.PODS_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pods": pods}, indent=1) + "\n")
        tmp.replace(path)

    # -- storage and services ---------------------------------------------------------------------------------
    def on_claim(self, kind: str, pvc: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        meta, spec = pvc["metadata"], pvc.get("spec", {})
        if kind == "DELETED" or meta.get("deletionTimestamp") or spec.get("volumeName"):
            return
        if pvc.get("status", {}).get("phase") not in (None, "Pending"):
            return
        size = spec.get("resources", {}).get("requests", {}).get("storage", "1Gi")
        reclaim = self.reclaim_policy(spec.get("storageClassName") or STORAGE_CLASS)
        pv: dict[str, Any] = {"apiVersion": "v1", "kind": "PersistentVolume",
              "metadata": {"name": f"lab-pv-{meta['uid']}", "labels": {"tenancy.lab/provisioned": "true"}},
              "spec": {"capacity": {"storage": size}, "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                       "storageClassName": spec.get("storageClassName") or "",
                       "volumeMode": spec.get("volumeMode") or "Filesystem",
                       "persistentVolumeReclaimPolicy": reclaim,
                       "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
                                    "name": meta["name"], "uid": meta["uid"]},
                       "hostPath": {"path": f"/nonexistent/tenancy-lab/{meta['uid']}"}}}
        try:
            self.core.create_persistent_volume(pv, _preload_content=False)
            log.info("claim %s/%s: volume %s", meta["namespace"], meta["name"], pv["metadata"]["name"])
        except ApiException as exc:
            if exc.status != 409:
                log.warning("provisioning %s/%s: %s", meta["namespace"], meta["name"], exc.body)

    def on_volume(self, kind: str, pv: dict[str, Any]) -> None:
        meta = pv["metadata"]
        if kind == "DELETED" or not (meta.get("labels") or {}).get("tenancy.lab/provisioned"):
            return
        # A released volume of a Retain class stays, as a real provisioner's would; a Delete class's goes.
        if pv.get("status", {}).get("phase") == "Released" \
                and pv.get("spec", {}).get("persistentVolumeReclaimPolicy") == "Delete":
            self.core.delete_persistent_volume(meta["name"], _preload_content=False)

    def reclaim_policy(self, class_name: str) -> str:
        """The reclaim policy of a claim's StorageClass (Delete when the class does not exist)."""
        from kubernetes.client.exceptions import ApiException

        try:
            return self.storage.read_storage_class(class_name).reclaim_policy or "Delete"
        except ApiException:
            return "Delete"

    def on_service(self, kind: str, svc: dict[str, Any]) -> None:
        meta, spec = svc["metadata"], svc.get("spec", {})
        if kind == "DELETED" or spec.get("type") != "LoadBalancer":
            return
        if (svc.get("status", {}).get("loadBalancer") or {}).get("ingress"):
            return
        with self.lock:
            ip = spec.get("loadBalancerIP") or next(
                str(a) for a in topology.LB_CIDR.hosts() if str(a) not in self.lb_used)
            self.lb_used.add(ip)
        self.core.patch_namespaced_service_status(
            meta["name"], meta["namespace"], {"status": {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}},
            _preload_content=False, _content_type=MERGE)
        log.info("service %s/%s: load balancer ingress %s", meta["namespace"], meta["name"], ip)

    # -- watching ---------------------------------------------------------------------------------------------
    def watch_forever(self, what: str, list_call: Callable[..., Any], handler: Callable[[str, dict[str, Any]], None],
                      ) -> None:
        """List then watch `list_call` (raw JSON), calling handler(event type, object) for each; re-list on error."""
        while not self.stopping.is_set():
            try:
                raw = json.loads(list_call(_preload_content=False).data)
                for item in raw.get("items", []):
                    self._handle(what, handler, "ADDED", item)
                rv = raw["metadata"]["resourceVersion"]
                while not self.stopping.is_set():
                    resp = list_call(watch=True, resource_version=rv, timeout_seconds=240,
                                     allow_watch_bookmarks=True, _preload_content=False)
                    try:
                        for line in resp:
                            if not line.strip():
                                continue
                            event = json.loads(line)
                            obj = event.get("object", {})
                            if event.get("type") == "ERROR":
                                raise RuntimeError(f"watch error: {obj.get('message')}")
                            rv = obj.get("metadata", {}).get("resourceVersion", rv)
                            if event.get("type") != "BOOKMARK":
                                self._handle(what, handler, event["type"], obj)
                    finally:
                        resp.release_conn()
            except Exception as exc:  # noqa: BLE001 - re-list after any failure
                if self.stopping.is_set():
                    return
                log.warning("%s watch: %s; listing again", what, exc)
                time.sleep(0.5)

    def _handle(self, what: str, handler: Callable[[str, dict[str, Any]], None], kind: str,
                obj: dict[str, Any]) -> None:
        try:
            handler(kind, obj)
        except Exception:
            meta = obj.get("metadata", {})
            log.exception("%s %s/%s", what, meta.get("namespace"), meta.get("name"))

    def run(self) -> None:
        self.register_node()
        (self.workdir / state.PODS_FILE).write_text(json.dumps({"pods": []}) + "\n")
        threads = [
            threading.Thread(target=self.renew_lease_forever, name="lease", daemon=True),
            threading.Thread(target=self.watch_forever, name="pods", daemon=True,
                             args=("pod", self.core.list_pod_for_all_namespaces, self.on_pod)),
            threading.Thread(target=self.watch_forever, name="claims", daemon=True,
                             args=("claim", self.core.list_persistent_volume_claim_for_all_namespaces, self.on_claim)),
            threading.Thread(target=self.watch_forever, name="volumes", daemon=True,
                             args=("volume", self.core.list_persistent_volume, self.on_volume)),
            threading.Thread(target=self.watch_forever, name="services", daemon=True,
                             args=("service", self.core.list_service_for_all_namespaces, self.on_service)),
        ]
        for thread in threads:
            thread.start()
        (self.workdir / "agent.ready").write_text(_now() + "\n")
        log.info("node agent ready: node %s, pod range %s", NODE_NAME, topology.POD_CIDR)
        self.stopping.wait()

    def shutdown(self) -> None:
        self.stopping.set()
        with self.lock:
            records = list(self.sandboxes.values())
        for record in records:
            self.responder.remove(record["netns"])


def _ready(status: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _controller(meta: dict[str, Any]) -> tuple[str, str] | None:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return ref["kind"], ref["name"]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tenancy.lab.nodeagent")
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--lab-id", required=True)
    args = parser.parse_args(argv)
    # Enter the node namespace ourselves rather than through `ip netns exec`: that would give the agent a private
    # mount namespace, and the pod namespaces it mounts under /run/netns would be invisible to everyone else.
    netns.enter_process(topology.Names(args.lab_id).node)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(threadName)s %(message)s")
    ipaddress.IPv4Network(topology.POD_CIDR)
    agent = Agent(args.workdir.resolve(), args.lab_id)
    signal.signal(signal.SIGTERM, lambda *_: agent.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: agent.stopping.set())
    try:
        agent.run()
    finally:
        agent.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
