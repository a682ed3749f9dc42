"""diff (flows gained/lost, resources added/removed/changed) and graph (Mermaid / DOT)."""

from __future__ import annotations

import copy
import json

import yaml

from analysis.reachability import Engine, PortSet, load_objects
from analysis.review.diff import diff_clusters, field_changes
from analysis.reachability.graph import dot_of, mermaid_of
from tenancy.cli import main

from tests.tenancy.shop import OBJS


def mutated(fn):
    objs = copy.deepcopy(OBJS)
    fn(objs)
    return objs


def find(objs, name):
    return next(o for o in objs if o["metadata"]["name"] == name)


def widen_db_port(objs):
    find(objs, "db-allow-backend")["spec"]["ingress"][0]["ports"] = [{"port": 5432, "endPort": 5433}]
    find(objs, "backend-egress")["spec"]["egress"][0]["ports"] = [{"port": 5430, "endPort": 5440}]


def test_diff_reports_flow_port_changes_per_pair():
    d = diff_clusters(load_objects(OBJS), load_objects(mutated(widen_db_port)))
    assert [(c.src, c.dst, str(c.ports), str(c.before), str(c.after)) for c in d.gained] == \
        [("shop/backend", "shop/database", "TCP 5433", "TCP 5432", "TCP 5432-5433")]
    assert d.lost == []
    assert [(r.ref, r.fields) for r in d.changed] == [
        ("NetworkPolicy shop/backend-egress",
         ("spec.egress[0].ports[0].endPort: added 5440", "spec.egress[0].ports[0].port: 'pg' -> 5430")),
        ("NetworkPolicy shop/db-allow-backend", ("spec.ingress[0].ports[0].endPort: added 5433",)),
    ]


def test_diff_added_removed_resources_and_lost_flows():
    def drop_db_policy(objs):
        objs.remove(find(objs, "db-allow-backend"))
        objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}})
    d = diff_clusters(load_objects(OBJS), load_objects(mutated(drop_db_policy)))
    assert [(c.src, c.dst, str(c.ports)) for c in d.lost] == [("shop/backend", "shop/database", "TCP 5432")]
    assert [r.ref for r in d.removed] == ["NetworkPolicy shop/db-allow-backend"]
    assert [r.ref for r in d.added] == ["ConfigMap shop/cfg"]


def test_diff_ignores_server_written_fields():
    def server_noise(objs):
        for o in objs:
            o["metadata"].update(uid="123", resourceVersion="9", creationTimestamp="2024-01-01T00:00:00Z",
                                 annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}"})
            o["status"] = {"phase": "Running"}
    d = diff_clusters(load_objects(OBJS), load_objects(mutated(server_noise)))
    assert d.empty


def test_field_changes_lists_and_scalars():
    assert field_changes({"a": [1, 2], "b": {"c": "x"}}, {"a": [1], "b": {"c": "y", "d": 1}}) == [
        "a[1]: removed", "b.c: 'x' -> 'y'", "b.d: added 1"]


def test_diff_command_formats(tmp_path, capsys):
    old, new = tmp_path / "old.yaml", tmp_path / "new"
    old.write_text(yaml.safe_dump_all(OBJS))
    new.mkdir()
    (new / "all.yaml").write_text(yaml.safe_dump_all(mutated(widen_db_port)))
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["flows"]["gained"] == [{"from": "shop/backend", "to": "shop/database", "ports": "TCP 5433",
                                       "before": "TCP 5432", "after": "TCP 5432-5433"}]
    assert {c["name"] for c in out["resources"]["changed"]} == {"backend-egress", "db-allow-backend"}
    assert main(["diff", str(old), str(new), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("### ⚠️ new: +0 resources, -0 removed, ~2 changed, 1 flow opened, 0 closed, 0 cross-tenant, "
                         "1 into a database\n")
    assert "- ⚠️ `shop/backend` → `shop/database`: `TCP 5433` (was `TCP 5432`, now `TCP 5432-5433`)" in md
    assert main(["diff", str(old), str(old)]) == 0
    assert "no differences" in capsys.readouterr().out
    assert main(["diff", str(old), str(tmp_path / "nope")]) == 2


def test_graph_edges_and_cidr_nodes():
    e = Engine(load_objects(OBJS))
    mermaid = mermaid_of(e)
    dot = dot_of(e)
    assert '"shop/backend" -> "shop/database" [label="TCP 5432"];' in dot
    assert '"shop/frontend" -> "shop/backend" [label="TCP 8000"];' in dot
    assert '"cidr:203.0.113.0/24" -> "shop/frontend" [label="TCP 8080"];' in dot
    assert '"shop/frontend" -> "cidr:0.0.0.0/0 except 10.0.0.0/8" [label="all"];' in dot
    assert '"shop/frontend" -> "shop/database"' not in dot
    assert 'subgraph "cluster_shop"' in dot and 'subgraph "cluster_other"' in dot
    assert mermaid.startswith("flowchart LR") and 'subgraph ns1["shop"]' in mermaid
    assert '(["203.0.113.0/24"])' in mermaid and '-->|"TCP 5432"|' in mermaid
    assert e.ip_block_flows()[("cidr:203.0.113.0/24", "shop/frontend")] == PortSet.parse("TCP 8080")


def test_graph_command(tmp_path, capsys):
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump_all(OBJS))
    assert main(["graph", str(p), "--format", "dot", "--external", "8.8.8.8"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph") and '"shop/frontend" -> "ip:8.8.8.8" [label="all"];' in out


def test_cluster_scoped_resources_have_no_namespace():
    def add_cluster_role(objs):
        objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "viewer"}})
    d = diff_clusters(load_objects(OBJS), load_objects(mutated(add_cluster_role)))
    assert [r.ref for r in d.added] == ["ClusterRole viewer"]
