"""Loading manifests: formats, folding of owned objects, namespaces, skipped kinds, located errors."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from analysis.reachability import Engine, ManifestError, load_objects, load_paths
from analysis.reachability import fastyaml

from .helpers import netpol, pod_obj

DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return str(p)


def test_multi_document_yaml_json_list_and_directories(tmp_path):
    write(tmp_path, "a/one.yaml", DEPLOY + "---\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n")
    write(tmp_path, "a/two.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        pod_obj("shop", "debug"), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]}))
    write(tmp_path, "a/ignored.txt", "not a manifest")
    c = load_paths([str(tmp_path / "a")])
    assert sorted(w.endpoint for w in c.workloads) == ["shop/debug", "shop/web"]
    assert dict(c.skipped) == {"Service": 1, "ConfigMap": 1}
    web = next(w for w in c.workloads if w.name == "web")
    assert web.labels == {"app": "web"} and web.ports[0].port == 8080 and web.ports[0].protocol == "TCP"
    assert {r.kind for r in c.resources} == {"Deployment", "Service", "Pod", "ConfigMap"}


def test_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(DEPLOY))
    assert [w.endpoint for w in load_paths(["-"]).workloads] == ["shop/web"]


def test_json_array_file(tmp_path):
    p = write(tmp_path, "x.json", json.dumps([pod_obj("a", "p1"), pod_obj("a", "p2")]))
    assert len(load_paths([p]).workloads) == 2


def test_all_workload_kinds_and_templates():
    tmpl = {"metadata": {"labels": {"k": "v"}}, "spec": {"containers": [{"name": "c"}]}}
    objs = [{"apiVersion": "apps/v1", "kind": k, "metadata": {"name": k.lower(), "namespace": "n"},
             "spec": {"template": tmpl}} for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")]
    objs.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cron", "namespace": "n"},
                 "spec": {"jobTemplate": {"spec": {"template": tmpl}}}})
    c = load_objects(objs)
    assert len(c.workloads) == 6 and all(w.labels == {"k": "v"} for w in c.workloads)


def owned(kind, name, owner_kind, owner_name, labels=None):
    o = pod_obj("n", name, labels) if kind == "Pod" else {
        "apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "n"},
        "spec": {"template": {"metadata": {"labels": labels or {}}}}}
    o["metadata"]["ownerReferences"] = [{"kind": owner_kind, "name": owner_name, "controller": True}]
    return o


def test_owned_objects_fold_into_present_controllers():
    objs = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "n"},
         "spec": {"template": {"metadata": {"labels": {"app": "web"}}}}},
        owned("ReplicaSet", "web-5d9c", "Deployment", "web"),
        owned("Pod", "web-5d9c-abcde", "ReplicaSet", "web-5d9c", {"app": "web", "pod-template-hash": "5d9c"}),
        # kubectl exports omit ReplicaSets: the pod-template-hash ties the pod to its Deployment.
        owned("Pod", "web-77aa-xyz12", "ReplicaSet", "web-77aa", {"app": "web", "pod-template-hash": "77aa"}),
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "n"},
         "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "job"}}}}}}},
        owned("Job", "nightly-28000000", "CronJob", "nightly"),
        owned("Pod", "nightly-28000000-q", "Job", "nightly-28000000"),
        owned("Pod", "nightly-28000001-q", "Job", "nightly-28000001"),  # job not exported
        owned("Pod", "orphan-1", "ReplicaSet", "gone-1", {"app": "x", "pod-template-hash": "1"}),
        owned("Pod", "ds-pod", "DaemonSet", "absent"),
    ]
    c = load_objects(objs)
    # The pods' own labels decide: web's two pods are two revisions (pod-template-hash differs), nightly's two
    # runs carry different labels too, so each of them is analysed on its own (and the output says so).
    assert sorted(w.endpoint for w in c.workloads) == [
        "n/ds-pod", "n/nightly-28000000-q", "n/nightly-28000001-q", "n/orphan-1", "n/web-5d9c-abcde",
        "n/web-77aa-xyz12"]
    assert c.split == {"n/nightly": ["n/nightly-28000000-q", "n/nightly-28000001-q"],
                       "n/web": ["n/web-5d9c-abcde", "n/web-77aa-xyz12"]}
    assert c.folded == 2  # the ReplicaSet and the Job, folded into their Deployment and CronJob
    # Pods whose labels are the same are shown as their controller.
    same = [objs[0], owned("Pod", "web-5d9c-aaaaa", "ReplicaSet", "web-5d9c", {"app": "web", "pod-template-hash": "5d9c"}),
            owned("Pod", "web-5d9c-bbbbb", "ReplicaSet", "web-5d9c", {"app": "web", "pod-template-hash": "5d9c"})]
    c = load_objects(same)
    assert [w.endpoint for w in c.workloads] == ["n/web"] and c.folded == 2
    assert c.workloads[0].labels == {"app": "web", "pod-template-hash": "5d9c"}


def test_default_namespace_and_undeclared_namespaces():
    objs = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}},
            netpol("other", "np", {"podSelector": {}}),
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "decl", "labels": {
                "kubernetes.io/metadata.name": "spoofed", "team": "a"}}}]
    c = load_objects(objs)
    assert c.workloads[0].namespace == "default"
    assert c.namespaces["default"].labels == {"kubernetes.io/metadata.name": "default"}
    assert c.namespaces["other"].labels == {"kubernetes.io/metadata.name": "other"}
    assert c.namespaces["decl"].labels == {"kubernetes.io/metadata.name": "decl", "team": "a"}


def test_same_name_different_kinds_get_distinct_endpoints():
    objs = [pod_obj("n", "db"), {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "n"},
                                 "spec": {"template": {"metadata": {"labels": {"a": "b"}}}}}]
    assert sorted(Engine(load_objects(objs)).workloads) == ["n/pod/db", "n/statefulset/db"]


def test_other_networkpolicy_api_versions_are_skipped():
    objs = [{"apiVersion": "crd.projectcalico.org/v1", "kind": "NetworkPolicy", "metadata": {"name": "x", "namespace": "n"},
             "spec": {"selector": "all()"}}]
    c = load_objects(objs)
    assert not c.policies and dict(c.skipped) == {"NetworkPolicy (crd.projectcalico.org/v1)": 1}


def test_errors_name_file_document_and_field(tmp_path):
    bad = """apiVersion: v1
kind: Namespace
metadata: {name: ok}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}
  ingress:
  - from: [{podSelector: {}}, {ipBlock: {cidr: 10.0.0/8}}, {}]
    ports: [{port: 70000}]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]
"""
    p = write(tmp_path, "bad.yaml", bad)
    with pytest.raises(ManifestError) as exc:
        load_paths([p])
    assert exc.value.problems == [
        f"{p} doc 2: spec.podSelector.matchExpressions[0].operator: invalid operator 'Equals' "
        "(expected one of In, NotIn, Exists, DoesNotExist)",
        f"{p} doc 2: spec.ingress[0].from[1].ipBlock.cidr: invalid CIDR '10.0.0/8'",
        f"{p} doc 2: spec.ingress[0].from[2]: must specify podSelector, namespaceSelector or ipBlock",
        f"{p} doc 2: spec.ingress[0].ports[0].port: port 70000 out of range 1-65535",
        f"{p} doc 2: spec.egress[0].to[0]: ipBlock cannot be combined with podSelector or namespaceSelector",
    ]


def test_invalid_yaml_and_missing_paths(tmp_path):
    p = write(tmp_path, "broken.yaml", "a: 1\n---\nb: [1, 2\n")
    with pytest.raises(ManifestError) as exc:
        load_paths([p, str(tmp_path / "missing.yaml")])
    probs = exc.value.problems
    assert probs[0].startswith(f"{p} doc 2: not valid YAML (line ")
    assert probs[1] == f"{tmp_path / 'missing.yaml'}: no such file or directory"
    # doc 1 ("a: 1") is not a Kubernetes object: reported too, with its own index
    assert any(x.startswith(f"{p} doc 1: kind: required") for x in probs)


def test_list_items_are_located(tmp_path):
    p = write(tmp_path, "l.yaml", yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [
        pod_obj("n", "ok"), netpol("n", "bad", {"podSelector": {}, "ingress": [{"ports": [{"port": 0}]}]})]}))
    with pytest.raises(ManifestError) as exc:
        load_paths([p])
    assert exc.value.problems == [f"{p} doc 1 items[1]: spec.ingress[0].ports[0].port: port 0 out of range 1-65535"]


def test_bad_container_port(tmp_path):
    objs = [pod_obj("n", "p", ports=[("web", 99999, "TCP")])]
    with pytest.raises(ManifestError) as exc:
        load_objects(objs, source="mem")
    assert exc.value.problems == ["mem doc 1: spec.containers[0].ports[0].containerPort: port 99999 out of range 1-65535"]


@pytest.mark.parametrize("text", [
    "a: 1\nb: [x, 'y', \"z\", 010, 0x1f, 1.5, yes, no, ~, '', 2024-01-01, !!str 5, 12:30]\n---\n---\nplain\n",
    "a: &x {b: [1, 2]}\nc: *x\n---\nd: *x\n",  # alias across documents is an error in YAML
    "<<: {a: 1}\nb: 2\n",
    "? [1, 2]\n: x\n",
    "a: !!binary aGVsbG8=\n",
])
def test_fast_yaml_equals_safe_loader(text):
    def run(fn):
        try:
            return list(fn(text))
        except yaml.YAMLError as exc:
            return ("error", type(exc).__name__)
    assert run(fastyaml.load_all) == run(lambda t: yaml.load_all(t, Loader=yaml.SafeLoader))


def test_fast_yaml_refuses_a_duplicate_key_as_kubectl_does():
    with pytest.raises(yaml.YAMLError, match=r"duplicate key 'k' \(first at line 3\)"):
        list(fastyaml.load_all("a: 1\n---\nk: v\nk: w\n"))


def test_same_object_twice_is_one_object(tmp_path):
    p = write(tmp_path, "d.yaml", DEPLOY)
    later = write(tmp_path, "np.yaml", yaml.safe_dump_all([
        netpol("shop", "deny", {"podSelector": {}}),
        netpol("shop", "deny", {"podSelector": {"matchLabels": {"app": "nothing"}}})]))
    c = load_paths([p, p, later])
    assert [w.endpoint for w in c.workloads] == ["shop/web"]
    assert len(c.policies) == 1 and str(c.policies[0].pod_selector) == "app=nothing"
