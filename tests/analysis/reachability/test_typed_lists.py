"""Typed lists (`PodList`, `NamespaceList`, `NetworkPolicyList`, as `kubectl get --raw` returns them): their items
carry no kind or apiVersion, which apimachinery fills in from the list; the loader does the same."""

from __future__ import annotations

import json

from analysis.reachability import Engine, load_objects, load_paths
from tenancy.cli import main


def _raw_lists() -> list[dict]:
    namespaces = {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": [
        {"metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop"}}},
        {"metadata": {"name": "other", "labels": {"kubernetes.io/metadata.name": "other"}}}]}
    pods = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [
        {"metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
         "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]},
         "status": {"phase": "Running"}},
        {"metadata": {"name": "client", "namespace": "other", "labels": {"app": "client"}},
         "spec": {"containers": [{"name": "c", "image": "curl"}]}, "status": {"phase": "Running"}}]}
    policies = {"kind": "NetworkPolicyList", "apiVersion": "networking.k8s.io/v1", "metadata": {}, "items": [
        {"metadata": {"name": "deny", "namespace": "shop"}, "spec": {"podSelector": {}}}]}
    return [namespaces, pods, policies]


def test_typed_list_items_take_kind_and_api_version_from_the_list():
    cluster = load_objects(_raw_lists())
    assert sorted(w.endpoint for w in cluster.workloads) == ["other/client", "shop/web"]
    assert [p.ref for p in cluster.policies] == ["shop/deny"]
    assert cluster.namespaces["shop"].declared
    # The NetworkPolicy is read as networking.k8s.io/v1 and isolates the web pod.
    assert not Engine(cluster).verdict("other/client", "shop/web", 80).allowed


def test_an_item_keeps_its_own_kind_and_a_plain_list_still_requires_kinds():
    mixed = {"kind": "PodList", "apiVersion": "v1", "items": [
        {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "a", "namespace": "n"}, "spec": {"containers": []}}]}
    assert [w.endpoint for w in load_objects([mixed]).workloads] == ["n/a"]


def test_every_engine_command_reads_typed_lists(tmp_path, capsys):
    for i, obj in enumerate(_raw_lists()):
        (tmp_path / f"raw{i}.json").write_text(json.dumps(obj))
    d = str(tmp_path)
    assert main(["matrix", d, "--port", "80/TCP"]) == 0
    assert main(["explain", d, "--from", "other/client", "--to", "shop/web", "--port", "80/TCP"]) == 0
    assert main(["graph", d]) == 0
    assert main(["check", d]) in (0, 1)  # analysed (not exit 2); whatever it finds is a verdict, not a refusal
    err = capsys.readouterr().err
    assert "kind: required" not in err
    assert len(load_paths([d]).workloads) == 2
