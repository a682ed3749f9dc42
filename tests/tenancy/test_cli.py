"""The matrix and explain commands end to end (in-process), and verdict reasons."""

from __future__ import annotations

import json

import pytest
import yaml

from analysis.reachability import Engine, PortSet, load_objects
from tenancy.cli import main
from tests.tenancy.shop import OBJS, tier

@pytest.fixture
def manifests(tmp_path):
    p = tmp_path / "shop.yaml"
    p.write_text(yaml.safe_dump_all(OBJS))
    return str(p)


def test_matrix_json_contract(manifests, capsys):
    assert main(["matrix", manifests, "--port", "5432/TCP", "--port", "8080", "--external", "203.0.113.9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"ports"} and set(out["ports"]) == {"5432/TCP", "8080/TCP"}
    m = out["ports"]["5432/TCP"]
    endpoints = {"shop/frontend", "shop/backend", "shop/database", "other/intruder", "ip:203.0.113.9"}
    assert set(m) == endpoints
    assert all(set(row) == endpoints - {src} for src, row in m.items())
    assert m["shop/backend"]["shop/database"] is True
    assert m["shop/frontend"]["shop/database"] is False
    assert m["other/intruder"]["shop/database"] is False
    assert out["ports"]["8080/TCP"]["ip:203.0.113.9"]["shop/frontend"] is True
    assert out["ports"]["8080/TCP"]["ip:203.0.113.9"]["shop/backend"] is False


def test_matrix_without_ports_lists_port_sets(manifests, capsys):
    assert main(["matrix", manifests, "--json"]) == 0
    flows = {(f["from"], f["to"]): f["ports"] for f in json.loads(capsys.readouterr().out)["flows"]}
    assert flows[("shop/backend", "shop/database")] == "TCP 5432"
    assert flows[("shop/frontend", "shop/backend")] == "TCP 8000"
    assert ("shop/frontend", "shop/database") not in flows
    assert ("other/intruder", "shop/frontend") not in flows
    assert not [pair for pair in flows if pair[0] == "shop/database"]  # default deny, no egress rule


def test_matrix_table_output(manifests, capsys):
    assert main(["matrix", manifests]) == 0
    captured = capsys.readouterr()
    assert "shop/backend" in captured.out and "TCP 5432" in captured.out
    assert "skipped" not in captured.err  # said only with -v
    assert main(["matrix", manifests, "-v"]) == 0
    assert "skipped 1 objects of other kinds (Service 1)" in capsys.readouterr().err
    assert main(["matrix", manifests, "--port", "5432/TCP"]) == 0
    assert "5432/TCP" in capsys.readouterr().out


def test_explain_allowed_names_policy_and_rule(manifests, capsys):
    assert main(["explain", manifests, "--from", "shop/backend", "--to", "shop/database", "--port", "5432/TCP"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "shop/backend -> shop/database on 5432/TCP: ALLOWED"
    assert "admitted by policy shop/backend-egress egress rule 0: to[0]" in out
    assert "admitted by policy shop/db-allow-backend ingress rule 0: from[0]" in out
    assert "selects shop/database: shop/default-deny" in out


def test_explain_denied_gives_closest_miss(manifests, capsys):
    assert main(["explain", manifests, "--from", "shop/frontend", "--to", "shop/database", "--port", "5432/TCP"]) == 0
    out = capsys.readouterr().out
    assert "DENIED" in out.splitlines()[0]
    ingress = out[out.index("ingress (entering shop/database)"):]
    closest = next(line for line in ingress.splitlines() if "closest miss" in line)
    assert "policy shop/db-allow-backend selects shop/database, its ingress rule 0 from[0] admits pods with " \
           "app.kubernetes.io/component=backend" in closest
    assert closest.endswith("shop/frontend has app.kubernetes.io/component=frontend")


def test_explain_unknown_endpoint_lists_near_matches(manifests, capsys):
    assert main(["explain", manifests, "--from", "shop/backnd", "--to", "shop/database", "--port", "5432"]) == 2
    err = capsys.readouterr().err
    assert "unknown endpoint 'shop/backnd'" in err and "shop/backend" in err


def test_bad_input_exits_2_with_located_errors(tmp_path, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n"
                 "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0/8}}]}]}\n")
    for cmd in (["matrix", str(p)], ["explain", str(p), "--from", "a/b", "--to", "c/d", "--port", "80"]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert err == f"error: {p} doc 1: spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR '10.0.0/8'\n"


def test_verdict_reasons_api():
    e = Engine(load_objects(OBJS))
    v = e.verdict("shop/frontend", "shop/backend", 8000)
    assert v.allowed
    assert v.egress.isolated and v.egress.selecting_policies == ["shop/default-deny", "shop/frontend-egress"]
    assert (v.egress.admitted_by.policy, v.egress.admitted_by.rule, v.egress.admitted_by.peer,
            v.egress.admitted_by.port) == ("shop/frontend-egress", 0, 0, 0)
    assert (v.ingress.admitted_by.policy, v.ingress.admitted_by.rule) == ("shop/backend-from-frontend", 0)
    # Ingress would admit 8001 (endPort range) but egress only 8000: denied on egress alone.
    v = e.verdict("shop/frontend", "shop/backend", 8001)
    assert not v.allowed and not v.egress.allowed and v.ingress.allowed
    assert v.egress.admitted_by is None and v.closest_miss.policy == "shop/frontend-egress"
    # An external client: egress side is not governed; ingress admitted by the LB ipBlock rule.
    v = e.verdict("ip:203.0.113.5", "shop/frontend", 8080)
    assert v.allowed and v.egress.external and v.ingress.admitted_by.policy == "shop/frontend-lb"
    v = e.verdict("ip:198.51.100.1", "shop/frontend", 8080)
    assert not v.allowed and "outside 203.0.113.0/24" in v.ingress.misses[0].reasons[0]
    v = e.verdict("ip:2001:db8::7", "shop/frontend", 8080)
    assert not v.allowed and v.ingress.misses[0].reasons == ("ip:2001:db8::7 is IPv6, 203.0.113.0/24 is IPv4",)
    v = e.verdict("shop/frontend", "ip:10.1.1.1", 443)
    assert not v.allowed and "except range 10.0.0.0/8" in v.egress.misses[0].reasons[0]
    assert e.allowed_ports("shop/frontend", "ip:8.8.8.8") == PortSet.all()
    assert e.allowed_ports("shop/backend", "shop/database") == PortSet.parse("TCP 5432")


def test_streamed_json_rows_equal_the_mapping():
    # Mix of dense (non-isolated) and sparse rows, and a class with two identical workloads.
    objs = OBJS + [tier("other", "twin", "backend", 8000)]
    e = Engine(load_objects(objs))
    for m in e.matrix([(5432, "TCP"), (8000, "TCP"), (53, "UDP")], ["203.0.113.9", "10.0.0.1"]).values():
        rows = {src: json.loads(text) for src, text in m.json_rows()}
        assert rows == m.to_dict()
        assert list(rows) == list(m)
