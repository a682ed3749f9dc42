"""Output that scales (issue 10): sparse matrix JSON, filters, the text grid's limit, graph limits and namespace
filter, --exit-code for explain and diff, and the small things (external pairs, nearest ipBlock, absent
namespaces, cluster services)."""

from __future__ import annotations

import json

import pytest
import yaml

from analysis.reachability import Engine, load_objects
from tenancy.cli import main
from tenancy.commands import graph as graph_command
from tenancy.commands import matrix as matrix_command


def ns(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def deploy(namespace: str, name: str, port: int = 8080, **labels: str) -> dict:
    labels = {"app": name, **labels}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
                {"name": "c", "ports": [{"name": "http", "containerPort": port}]}]}}}}


def np(namespace: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def tenants(n: int) -> list[dict]:
    """n namespaces of two workloads: `web` reaches `api` on 8080, nothing else gets in or out."""
    objs: list[dict] = []
    for i in range(n):
        t = f"t{i}"
        objs += [ns(t), deploy(t, "web"), deploy(t, "api"),
                 np(t, "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
                 np(t, "web-out", {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"],
                                   "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "api"}}}]}]}),
                 np(t, "api-in", {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"],
                                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                               "ports": [{"port": 8080}]}]})]
    return objs


@pytest.fixture
def cluster_file(tmp_path):
    def write(objs: list[dict], name: str = "c.yaml"):
        path = tmp_path / name
        path.write_text(yaml.safe_dump_all(objs))
        return str(path)
    return write


def test_allowed_only_json_has_the_dense_shape_without_the_denied_pairs(cluster_file, capsys):
    path = cluster_file(tenants(3))
    assert main(["matrix", path, "--port", "8080/TCP", "--json"]) == 0
    dense = json.loads(capsys.readouterr().out)
    assert main(["matrix", path, "--port", "8080/TCP", "--json", "--allowed-only"]) == 0
    sparse = json.loads(capsys.readouterr().out)
    expected = {src: {dst: True for dst, ok in row.items() if ok} for src, row in dense["ports"]["8080/TCP"].items()}
    assert sparse == {"ports": {"8080/TCP": {s: row for s, row in expected.items() if row}}}
    assert sparse["ports"]["8080/TCP"] == {"t0/web": {"t0/api": True}, "t1/web": {"t1/api": True},
                                           "t2/web": {"t2/api": True}}


def test_allowed_only_needs_json_and_port(cluster_file, capsys):
    assert main(["matrix", cluster_file(tenants(1)), "--allowed-only"]) == 2
    assert "--allowed-only needs --json and --port" in capsys.readouterr().err


def test_filters_by_namespace_source_and_destination(cluster_file, capsys):
    path = cluster_file(tenants(3))
    assert main(["matrix", path, "--port", "8080", "--json", "--namespace", "t1"]) == 0
    assert json.loads(capsys.readouterr().out)["ports"]["8080/TCP"] == {"t1/web": {"t1/api": True},
                                                                        "t1/api": {"t1/web": False}}
    assert main(["matrix", path, "--port", "8080", "--json", "--from", "t2/web", "--to", "t*/api"]) == 0
    assert json.loads(capsys.readouterr().out)["ports"]["8080/TCP"] == {
        "t2/web": {"t0/api": False, "t1/api": False, "t2/api": True}}
    assert main(["matrix", path, "--from", "t0"]) == 0
    out = capsys.readouterr().out
    assert "t0/web" in out and "t1/web" not in out


def test_a_filter_matching_nothing_is_exit_2_with_near_matches(cluster_file, capsys):
    path = cluster_file(tenants(2))
    assert main(["matrix", path, "--namespace", "t00"]) == 2
    assert "--namespace t00: namespace 't00' is not in the input; near matches: t0" in capsys.readouterr().err
    assert main(["matrix", path, "--from", "t0/nope"]) == 2
    assert "--from t0/nope: matches no workload or address in the input" in capsys.readouterr().err


def test_the_text_grid_is_refused_past_the_limit_with_totals_and_a_hint(cluster_file, capsys, monkeypatch):
    monkeypatch.setattr(matrix_command, "GRID_LIMIT", 4)
    path = cluster_file(tenants(3))
    assert main(["matrix", path, "--port", "8080/TCP"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["6 sources x 6 destinations",
                                         "8080/TCP: 3 allowed pairs (0 across namespaces)"]
    assert "hint: a grid of 6 x 6 is not drawn (limit 4); narrow it with --namespace, --from or --to" in captured.err
    assert main(["matrix", path, "--port", "8080/TCP", "--namespace", "t0"]) == 0
    out = capsys.readouterr().out
    assert "t0/web" in out and "✓" in out and "t1/web" not in out


def test_two_external_addresses_are_never_shown_allowed(cluster_file, capsys):
    path = cluster_file([ns("a"), deploy("a", "web")])
    assert main(["matrix", path, "--port", "80", "--external", "1.1.1.1", "--external", "8.8.8.8", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["ports"]["80/TCP"]
    assert rows["ip:1.1.1.1"] == {"a/web": True, "ip:8.8.8.8": False}
    assert main(["matrix", path, "--port", "80", "--external", "1.1.1.1", "--external", "8.8.8.8"]) == 0
    out = capsys.readouterr().out
    grid = [line for line in out.splitlines() if "ip:1.1.1.1" in line][0]
    assert "✓" in grid and grid.count("-") == 2  # itself and the other address: not governed, not allowed


def test_graph_namespace_filter_and_limits(cluster_file, capsys, monkeypatch):
    # Two open namespaces reach each other: the only edges that cross namespaces.
    path = cluster_file(tenants(3) + [ns("open"), deploy("open", "x"), ns("other"), deploy("other", "y")])
    assert main(["graph", path, "--namespace", "t1"]) == 0
    out = capsys.readouterr().out
    assert '"t1"' in out and '"t0"' not in out
    assert main(["graph", path, "--namespace", "t9"]) == 2
    assert "--namespace t9: namespace 't9' is not in the input" in capsys.readouterr().err
    assert main(["graph", path, "--max-edges", "2", "--format", "dot"]) == 0
    captured = capsys.readouterr()
    assert "drawn with one node per namespace" in captured.err
    assert '"ns:open" -> "ns:other"' in captured.out and "t0/web" not in captured.out
    monkeypatch.setattr(graph_command, "MERMAID_MAX_TEXT", 10)
    assert main(["graph", path]) == 2
    assert "graph too big" in capsys.readouterr().err


def test_explain_exit_code_gates_on_the_verdict(cluster_file, capsys):
    path = cluster_file(tenants(1))
    assert main(["explain", path, "--from", "t0/web", "--to", "t0/api", "--port", "8080", "--exit-code"]) == 0
    assert main(["explain", path, "--from", "t0/api", "--to", "t0/web", "--port", "8080", "--exit-code"]) == 1
    assert main(["explain", path, "--from", "t0/api", "--to", "t0/web", "--port", "8080"]) == 0
    assert main(["explain", path, "--from", "ghost/web", "--to", "t0/web", "--port", "8080"]) == 2
    assert "namespace 'ghost' is not in the input" in capsys.readouterr().err


def test_diff_exit_code_gates_on_warnings(cluster_file, capsys):
    old = cluster_file(tenants(2), "old.yaml")
    # New external exposure: the internet may now reach t1's pods.
    opened = tenants(2) + [np("t1", "open", {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]})]
    new = cluster_file(opened, "new.yaml")
    assert main(["diff", old, old, "--exit-code"]) == 0
    assert main(["diff", old, new]) == 0
    assert main(["diff", old, new, "--exit-code"]) == 1


def test_explain_cites_the_nearest_ip_block():
    objs = [ns("a"), deploy("a", "web"),
            np("a", "lb", {"podSelector": {}, "ingress": [
                {"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}, {"ipBlock": {"cidr": "203.0.113.0/24"}}]}]})]
    verdict = Engine(load_objects(objs)).verdict("ip:203.0.114.9", "a/web", 8080)
    assert not verdict.allowed
    assert verdict.ingress.misses[0].reasons == ("ip:203.0.114.9 is outside 203.0.113.0/24",)


def test_a_namespace_missing_from_the_input_is_said_so():
    objs = [ns("a"), deploy("a", "web"), deploy("b", "api"),
            np("a", "in", {"podSelector": {}, "ingress": [{"from": [
                {"namespaceSelector": {"matchLabels": {"team": "x"}}}]}]})]
    verdict = Engine(load_objects(objs)).verdict("b/api", "a/web", 8080)
    assert verdict.ingress.misses[0].reasons == (
        "namespace b is not in the input, so its labels are unknown (only kubernetes.io/metadata.name is assumed)",)


def test_matrix_with_cluster_services_shows_dns_and_monitoring(cluster_file, capsys):
    dns = np("t0", "dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": [{"port": 53, "protocol": "UDP"}]}]})
    path = cluster_file(tenants(1) + [dns])
    assert main(["matrix", path]) == 0
    assert "kube-system" not in capsys.readouterr().out
    assert main(["matrix", path, "--with-cluster-services"]) == 0
    out = capsys.readouterr().out
    assert "t0/web" in out and "kube-system/cluster-dns" in out and "UDP 53" in out
