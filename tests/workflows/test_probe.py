"""e2e/probe.py against a fake kubectl: a tiny in-memory cluster whose dataplane decides by pod labels and declared
ports, so a stand-in that copied the wrong labels or ports would be observed wrongly and fail these tests."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from e2e import probe

MANIFESTS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-frontend, namespace: acme}
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/part-of: shop, app.kubernetes.io/component: frontend}
    spec:
      containers:
        - name: frontend
          ports: [{name: serve, containerPort: 8080, protocol: TCP}, {name: metrics, containerPort: 9090}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: shop-database, namespace: acme}
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/part-of: shop, app.kubernetes.io/component: database}
    spec:
      containers:
        - name: database
          ports: [{name: serve, containerPort: 5432}, {name: metrics, containerPort: 9091, hostPort: 9091}]
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata:
      name: prometheus
      namespace: monitoring
      labels: {app.kubernetes.io/name: prometheus}
    spec:
      containers: [{name: prometheus, image: busybox}]
  - apiVersion: v1
    kind: Service
    metadata: {name: shop-frontend, namespace: acme}
"""

FRONTEND, DATABASE, PROMETHEUS = "acme/shop-frontend", "acme/shop-database", "monitoring/prometheus"


def dataplane(src: dict, dst: dict, port: int) -> bool:
    """The fake CNI: frontend -> database on 5432, Prometheus -> any pod's port named `metrics`."""
    src_labels, dst_labels = src["metadata"]["labels"], dst["metadata"]["labels"]
    if src_labels.get("app.kubernetes.io/name") == "prometheus":
        named = {p.get("name"): p["containerPort"] for c in dst["spec"]["containers"] for p in c.get("ports", [])}
        return named.get("metrics") == port
    return (src_labels.get("app.kubernetes.io/component") == "frontend"
            and dst_labels.get("app.kubernetes.io/component") == "database" and port == 5432)


class FakeCluster:
    """Answers the kubectl calls probe.py makes; everything else is a test failure."""

    def __init__(self, plane=dataplane, exec_hook=None, ready=True):
        self.plane = plane
        self.exec_hook = exec_hook  # (pod, ip, port, default) -> stdout line or None
        self.ready = ready
        self.pods: dict[tuple[str, str], dict] = {}
        self.owners: dict[str, str] = {}
        self.deleted_owners: list[str] = []
        self.exec_calls = 0
        self._next_ip = 1

    def __call__(self, args: list[str], stdin=None) -> probe.Result:
        verb = args[0]
        if args[:4] == ["apply", "-f", "-", "-o"]:
            return self._apply(json.loads(stdin))
        if verb == "delete" and args[1] == "pod":
            namespace = args[args.index("-n") + 1]
            for name in [a for a in args[2:] if not a.startswith("-") and a != namespace]:
                self.pods.pop((namespace, name), None)
            return probe.Result(0, "", "")
        if verb == "delete" and args[1] == "configmap":
            namespace = args[args.index("-n") + 1]
            self.deleted_owners.append(namespace)
            uid = self.owners.pop(namespace, None)
            for key, pod in list(self.pods.items()):  # garbage collection of the dependents
                if pod["metadata"]["ownerReferences"][0]["uid"] == uid:
                    del self.pods[key]
            return probe.Result(0, "", "")
        if verb == "wait":
            return probe.Result(0 if self.ready else 1, "", "" if self.ready else "timed out waiting")
        if verb == "describe":
            return probe.Result(0, "Events: Back-off pulling image", "")
        if verb == "get":
            namespace = args[args.index("-n") + 1]
            names = args[args.index("json") + 1:]
            items = [self.pods[(namespace, n)] for n in names]
            return probe.Result(0, json.dumps({"kind": "List", "items": items} if len(items) > 1 else items[0]), "")
        if verb == "exec":
            return self._exec(args)
        raise AssertionError(f"unexpected kubectl call: {shlex.join(args)}")

    def _apply(self, obj: dict) -> probe.Result:
        if obj["kind"] == "ConfigMap":
            namespace = obj["metadata"]["namespace"]
            self.owners[namespace] = f"uid-{namespace}"
            return probe.Result(0, json.dumps({**obj, "metadata": {**obj["metadata"], "uid": self.owners[namespace]}}), "")
        assert obj["kind"] == "List"
        for pod in obj["items"]:
            meta = pod["metadata"]
            assert meta["ownerReferences"][0]["uid"] == self.owners[meta["namespace"]]
            pod = json.loads(json.dumps(pod))
            pod["status"] = {"podIP": f"10.0.0.{self._next_ip}"}
            self._next_ip += 1
            self.pods[(meta["namespace"], meta["name"])] = pod
        return probe.Result(0, json.dumps(obj), "")

    def _exec(self, args: list[str]) -> probe.Result:
        self.exec_calls += 1
        namespace, pod_name = args[args.index("-n") + 1], args[3]
        ip, port = args[-2], int(args[-1])
        src = self.pods[(namespace, pod_name)]
        dst = next(p for p in self.pods.values() if p["status"]["podIP"] == ip)
        listening = port in [int(a) for a in dst["spec"]["containers"][0]["command"][4:]]
        connected = listening and self.plane(src, dst, port)
        line = f"probe-rc={0 if connected else 1}"
        if self.exec_hook is not None:
            line = self.exec_hook(pod_name, ip, port, line)
        return probe.Result(0, f"{line}\n" if line else "", "" if line else "error: unable to upgrade connection")


def prediction(overrides: dict | None = None) -> dict:
    """The fake dataplane's truth over the three workloads and ports 5432, 9090, 9091."""
    keys = [FRONTEND, DATABASE, PROMETHEUS]
    ports: dict = {}
    for port in (5432, 9090, 9091):
        ports[f"{port}/TCP"] = {s: {d: False for d in keys if d != s} for s in keys}
    ports["5432/TCP"][FRONTEND][DATABASE] = True
    ports["9090/TCP"][PROMETHEUS][FRONTEND] = True
    ports["9091/TCP"][PROMETHEUS][DATABASE] = True
    for (port, src, dst), value in (overrides or {}).items():
        ports[port][src][dst] = value
    return {"ports": ports}


@pytest.fixture
def files(tmp_path: Path):
    manifests = tmp_path / "render"
    manifests.mkdir()
    (manifests / "all.yaml").write_text(MANIFESTS)

    def write(data: dict) -> list[str]:
        (tmp_path / "predicted.json").write_text(json.dumps(data))
        return ["--predicted", str(tmp_path / "predicted.json"), "--report", str(tmp_path / "observed.json"),
                "--settle", "0", str(manifests)]

    write.report = lambda: json.loads((tmp_path / "observed.json").read_text())
    return write


def run(files, data: dict, cluster: FakeCluster) -> int:
    return probe.main(files(data), runner=cluster, sleep=lambda s: None)


def test_a_cluster_that_behaves_as_predicted_passes_and_is_cleaned_up(files, capsys):
    cluster = FakeCluster()
    assert run(files, prediction(), cluster) == 0
    report = files.report()
    assert len(report["cases"]) == 18 and report["mismatches"] == [] and report["errors"] == []
    assert "18 agree, 0 mismatched, 0 errors" in capsys.readouterr().out
    assert sorted(cluster.deleted_owners) == ["acme", "monitoring"] and cluster.pods == {}


def test_every_disagreement_is_listed_in_both_directions(files, capsys):
    # Predicted open but blocked in the cluster, and predicted closed but open in the cluster.
    data = prediction({("5432/TCP", FRONTEND, DATABASE): False, ("9090/TCP", PROMETHEUS, DATABASE): False,
                       ("9091/TCP", PROMETHEUS, FRONTEND): True})
    assert run(files, data, FakeCluster()) == 1
    out = capsys.readouterr().out
    assert ("MISMATCH 5432/TCP acme/shop-frontend -> acme/shop-database: predicted denied, observed connected"
            in out)
    assert ("MISMATCH 9091/TCP monitoring/prometheus -> acme/shop-frontend: predicted allowed, observed blocked"
            in out)
    mismatched = {(m["port"], m["src"], m["dst"]) for m in files.report()["mismatches"]}
    assert mismatched == {("5432/TCP", FRONTEND, DATABASE), ("9091/TCP", PROMETHEUS, FRONTEND)}
    # 9090 to the database is closed in both: the database's metrics port is 9091.
    assert all(m["attempts"] == 3 for m in files.report()["mismatches"])


def test_a_disagreement_that_goes_away_on_retry_is_not_a_mismatch(files):
    seen: set = set()

    def late_policy(pod, ip, port, line):
        # The first try of each flow still sees the CNI before it programmed the new pod IPs: everything open.
        if (pod, ip, port) not in seen:
            seen.add((pod, ip, port))
            return "probe-rc=0"
        return line

    assert run(files, prediction(), FakeCluster(exec_hook=late_policy)) == 0
    attempts = {(c["port"], c["src"], c["dst"]): c["attempts"] for c in files.report()["cases"]}
    assert attempts[("5432/TCP", FRONTEND, DATABASE)] == 1  # allowed: agreed at once
    assert attempts[("5432/TCP", DATABASE, FRONTEND)] == 2  # denied: agreed on the retry


def test_a_failed_exec_is_an_error_not_a_verdict(files, capsys):
    broken = FakeCluster(exec_hook=lambda pod, ip, port, line: None if port == 9091 else line)
    assert run(files, prediction(), broken) == 1
    report = files.report()
    assert report["mismatches"] == [] and len(report["errors"]) == 6
    assert "ERROR 9091/TCP" in capsys.readouterr().out


def test_stand_ins_that_never_get_ready_fail_with_the_reason(files, capsys):
    assert run(files, prediction(), FakeCluster(ready=False)) == 1
    err = capsys.readouterr().err
    assert "timed out waiting" in err and "Back-off pulling image" in err


def test_a_prediction_naming_unknown_workloads_is_unusable_input(files, capsys):
    data = prediction()
    data["ports"]["5432/TCP"]["acme/ghost"] = {FRONTEND: False}
    cluster = FakeCluster()
    assert run(files, data, cluster) == 2
    assert "acme/ghost" in capsys.readouterr().err and cluster.exec_calls == 0


def test_external_addresses_and_udp_are_skipped_not_probed(files, capsys):
    data = prediction()
    data["ports"]["5432/TCP"][FRONTEND]["ip:203.0.113.7"] = True
    data["ports"]["53/UDP"] = {FRONTEND: {DATABASE: False}}
    assert run(files, data, FakeCluster()) == 0
    skipped = files.report()["skipped"]
    assert len(skipped) == 2 and any("ip:203.0.113.7" in s for s in skipped) and any("53/UDP" in s for s in skipped)


def test_stand_ins_copy_labels_and_ports_exactly_and_pass_restricted(tmp_path: Path):
    (tmp_path / "m.yaml").write_text(MANIFESTS)
    workloads = probe.load_workloads([tmp_path / "m.yaml"])
    assert set(workloads) == {FRONTEND, DATABASE, PROMETHEUS}  # the Service is no workload
    database = workloads[DATABASE]
    pod = probe.standin_pod(database, "probe-x-a", [5432, 9091], "uid-1", probe.DEFAULT_IMAGE)
    # No extra label: a policy selecting on any other key must see the stand-in exactly as the real pod.
    assert pod["metadata"]["labels"] == {"app.kubernetes.io/part-of": "shop",
                                         "app.kubernetes.io/component": "database"}
    container = pod["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 5432, "protocol": "TCP", "name": "serve"},
                                  {"containerPort": 9091, "protocol": "TCP", "name": "metrics"}]  # hostPort dropped
    owner = pod["metadata"]["ownerReferences"][0]
    assert owner["controller"] is True and owner["kind"] == "ConfigMap" and owner["uid"] == "uid-1"
    # Pod Security `restricted`: non-root, no escalation, no capabilities, RuntimeDefault seccomp.
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["limits"] and container["resources"]["requests"]
    assert container["command"][-2:] == ["5432", "9091"]


def test_stand_in_names_are_valid_distinct_and_stable():
    long = probe.RenderedWorkload("acme", "a" * 60, {}, ())
    names = probe.standin_names(long) + probe.standin_names(probe.RenderedWorkload("acme", "a" * 61, {}, ()))
    assert len(set(names)) == 4 and all(len(n) <= 63 for n in names)
    assert probe.standin_names(long) == probe.standin_names(long)

