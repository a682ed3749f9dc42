"""Live exports: each running pod's own labels decide, not its controller's template. Pods are shown as their
controller only when they all carry the same labels; finished pods carry no flows; the output says when
pod-specific labels split a workload."""

from __future__ import annotations

import pytest
import yaml

from analysis.reachability import Engine, UnknownEndpoint, load_objects
from tenancy.cli import main

from tests.live_export import export, netpol, pod

DB_PORT = 5432
# A tenant (admin of its namespace) targets one database pod by the label its StatefulSet gives it, and lets a
# `kubectl run debug` pod in, with an egress policy of its own for that pod.
ATTACK = [
    netpol("acme", "debug-into-db", {
        "podSelector": {"matchLabels": {"statefulset.kubernetes.io/pod-name": "shop-database-0"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"run": "debug"}}}],
                     "ports": [{"port": DB_PORT, "protocol": "TCP"}]}]}),
    netpol("acme", "debug-egress", {"podSelector": {"matchLabels": {"run": "debug"}}, "policyTypes": ["Egress"],
                                    "egress": [{}]}),
    pod("acme", "debug", {"run": "debug"}),
]


@pytest.fixture
def live(dev):
    return export(dev.manifests()) + ATTACK


def _write(tmp_path, objects) -> str:
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return str(path)


def test_a_pod_name_label_makes_the_database_reachable_and_explain_says_so(live, tmp_path, capsys):
    engine = Engine(load_objects(live))
    assert engine.verdict("acme/debug", "acme/shop-database-0", DB_PORT).allowed
    path = _write(tmp_path, live)
    assert main(["explain", path, "--from", "acme/debug", "--to", "acme/shop-database-0",
                 "--port", f"{DB_PORT}/TCP"]) == 0
    out, err = capsys.readouterr()
    assert "ALLOWED" in out.upper().split("\n", 1)[0] and "debug-into-db" in out
    assert "acme/shop-database (StatefulSet): its" not in err  # one replica: nothing to split


def test_check_with_the_stack_reports_the_database_hole(live, tmp_path, capsys):
    assert main(["check", _write(tmp_path, live), "--stack", "dev"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("database-ingress acme/debug -> acme/shop-database") for line in lines), lines
    assert any(line.startswith("tenant-authored-widening NetworkPolicy acme/debug-into-db") for line in lines), lines


def test_pods_with_identical_labels_are_shown_as_their_controller_with_the_pods_labels(dev):
    cluster = load_objects(export(dev.manifests(), replicas={"shop-frontend": 3}))
    frontend = next(w for w in cluster.workloads if w.endpoint == "acme/shop-frontend")
    assert frontend.kind == "Deployment" and frontend.labels["pod-template-hash"] == "7d9f8c6b5"
    assert cluster.split == {} and cluster.notes == []


def test_pod_specific_labels_split_a_workload_and_the_output_says_so(dev, tmp_path, capsys):
    objects = export(dev.manifests(), replicas={"shop-database": 2})
    cluster = load_objects(objects)
    assert cluster.split == {"acme/shop-database": ["acme/shop-database-0", "acme/shop-database-1"]}
    path = _write(tmp_path, objects)
    assert main(["matrix", path, "--port", f"{DB_PORT}/TCP"]) == 0
    err = capsys.readouterr().err
    assert ("note: acme/shop-database (StatefulSet): its 2 pods carry pod-specific labels "
            "(apps.kubernetes.io/pod-index, statefulset.kubernetes.io/pod-name), so each is analysed on its own: "
            "acme/shop-database-0, acme/shop-database-1") in err
    with pytest.raises(UnknownEndpoint) as exc:
        Engine(cluster).resolve("acme/shop-database")
    assert "acme/shop-database-0, acme/shop-database-1" in str(exc.value)


def test_a_label_added_to_one_pod_by_hand_counts(dev):
    objects = export(dev.manifests(), replicas={"shop-frontend": 2})
    frontends = [o for o in objects if o["kind"] == "Pod" and o["metadata"]["name"].startswith("shop-frontend-")]
    frontends[1]["metadata"]["labels"]["access"] = "granted"  # kubectl label pod ... access=granted
    objects += [
        netpol("acme", "granted-into-db", {
            "podSelector": {"matchLabels": {"app.kubernetes.io/component": "database"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"access": "granted"}}}]}]}),
        netpol("acme", "granted-out", {"podSelector": {"matchLabels": {"access": "granted"}},
                                       "policyTypes": ["Egress"], "egress": [{}]})]
    engine = Engine(load_objects(objects))
    granted, plain = (f"acme/{o['metadata']['name']}" for o in (frontends[1], frontends[0]))
    assert engine.verdict(granted, "acme/shop-database-0", DB_PORT).allowed
    assert not engine.verdict(plain, "acme/shop-database-0", DB_PORT).allowed


def test_finished_pods_carry_no_flows(tmp_path, capsys):
    objects = [pod("n", "done", {"app": "x"}, phase="Succeeded"), pod("n", "crashed", {"app": "x"}, phase="Failed"),
               pod("n", "web", {"app": "web"}),
               {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "n"},
                "spec": {"template": {"metadata": {"labels": {"app": "m"}}, "spec": {"containers": []}}},
                "status": {"conditions": [{"type": "Complete", "status": "True"}]}}]
    cluster = load_objects(objects)
    assert [w.endpoint for w in cluster.workloads] == ["n/web"] and cluster.finished == 3
    assert Engine(cluster).flows() == {}
    path = _write(tmp_path, objects)
    assert main(["matrix", path]) == 0
    assert "3 finished pods and Jobs" in capsys.readouterr().err


def test_a_render_without_pods_still_reads_templates(dev):
    cluster = load_objects(dev.manifests())
    assert "acme/shop-database" in {w.endpoint for w in cluster.workloads}
    assert cluster.split == {} and cluster.finished == 0
