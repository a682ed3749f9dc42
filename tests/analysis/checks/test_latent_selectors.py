"""`check` and `diff` reason about what a selector could match, not only what exists today: a witness pod in a
witness namespace for every peer (labels anyone can set, namespaces anyone can label; only
kubernetes.io/metadata.name cannot be forged), an unknown-namespace pod and an arbitrary external address among
the diff's sources, removed isolation and newly opened internet egress as warnings."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from analysis.checks.invariants import check
from analysis.reachability import load_objects
from analysis.reachability.witnesses import satisfy, witness_objects
from analysis.reachability.selectors import parse_selector
from stackconfig import parse_config, read_stack_file
from tenancy.cli import main

REPO_ROOT = Path(__file__).resolve().parents[3]
DB = {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/component": "database"}


def namespaced(objects: list[dict]) -> list[dict]:
    """Without the admin-tier cluster policies a stack may render (they stop cross-namespace flows on their own):
    these tests are about what NetworkPolicies alone would let a pod that does not exist yet do."""
    return [o for o in objects if not (o["kind"].endswith("NetworkPolicy") and o["kind"] != "NetworkPolicy")]


def _config():
    return parse_config(read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()).config


def _netpol(namespace: str, name: str, spec: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _into_db(name: str, peer: dict) -> dict:
    return _netpol("acme", name, {"podSelector": {"matchLabels": DB}, "policyTypes": ["Ingress"],
                                  "ingress": [{"from": [peer], "ports": [{"port": 5432, "protocol": "TCP"}]}]})


LATENT = {
    "any-namespace-dba": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"role": "dba"}}},
    "partner-namespaces": {"namespaceSelector": {"matchLabels": {"partner": "true"}}},
    "future-namespace": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "audit"}}},
}


@pytest.mark.parametrize("name", sorted(LATENT))
@pytest.mark.parametrize("with_stack", [True, False])
def test_check_reports_a_selector_no_pod_matches_yet(dev, name, with_stack):
    manifests = [*namespaced(copy.deepcopy(dev.manifests())), _into_db(name, LATENT[name])]
    found = check(manifests, _config() if with_stack else None)
    rules = {v.rule for v in found}
    assert {"database-ingress", "tenant-authored-widening"} <= rules, found
    assert any(v.rule == "tenant-authored-widening" and v.subject == f"NetworkPolicy acme/{name}" for v in found)


def test_another_tenant_could_create_the_pod(dev):
    manifests = [*namespaced(copy.deepcopy(dev.manifests())), _into_db("x", LATENT["any-namespace-dba"])]
    found = check(manifests, _config())
    assert any(v.rule == "cross-tenant-flow" and v.subject.startswith("globex/witness-") for v in found), found


def test_the_render_needs_no_witness_and_stays_clean(dev):
    objects, witnesses = witness_objects(load_objects(dev.manifests()))
    assert check(dev.manifests(), _config()) == []
    # Program peers name namespaces by kubernetes.io/metadata.name and pods that exist: nothing to stand in for
    # except the cluster services the render refers to but does not contain (DNS, monitoring).
    assert {w.endpoint.split("/")[0] for w in witnesses} <= {"kube-system", "monitoring"}


@pytest.mark.parametrize("selector, labels", [
    ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1", "b": "any"}),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x", "y"]},
                           {"key": "a", "operator": "NotIn", "values": ["x"]}]}, {"a": "y"}),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {}),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]},
                           {"key": "a", "operator": "NotIn", "values": ["x"]}]}, None),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "a", "operator": "DoesNotExist"}]}, None),
])
def test_witness_labels_satisfy_the_selector(selector, labels):
    parsed = parse_selector(selector, "s", [])
    assert satisfy(parsed) == labels
    if labels is not None:
        assert parsed.matches(labels)


# ---------------------------------------------------------------------------------------------------------- diff

def _write(path: Path, objects: list[dict]) -> str:
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return str(path)


def _run_diff(tmp_path, capsys, old, new) -> dict:
    code = main(["diff", _write(tmp_path / "old.yaml", old), _write(tmp_path / "new.yaml", new), "--format", "json"])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_diff_of_deleting_default_deny_and_allowing_all_ingress_is_not_silent(dev, tmp_path, capsys):
    old = namespaced(copy.deepcopy(dev.manifests()))
    new = [m for m in old if not (m["kind"] == "NetworkPolicy" and m["metadata"]["namespace"] == "acme"
                                  and m["metadata"]["name"] == "default-deny")]
    new.append(_netpol("acme", "allow-all", {"podSelector": {}, "ingress": [{}]}))
    out = _run_diff(tmp_path, capsys, old, new)
    kinds = {w["kind"] for w in out["warnings"]}
    assert "isolation-removed" in kinds and "external" in kinds and "database" in kinds, out["warnings"]
    sources = {f["from"] for f in out["flows"]["gained"]}
    assert "unknown-namespace/any-pod" in sources and "ip:198.51.100.7" in sources, sources
    assert "0 flows opened" not in out["summary"]


def test_diff_flags_newly_opened_internet_egress(dev, tmp_path, capsys):
    old = namespaced(copy.deepcopy(dev.manifests()))
    new = [*copy.deepcopy(old), _netpol("acme", "egress-anywhere", {
        "podSelector": {"matchLabels": {"app.kubernetes.io/component": "frontend"}}, "policyTypes": ["Egress"],
        "egress": [{}]})]
    out = _run_diff(tmp_path, capsys, old, new)
    internet = [w for w in out["warnings"] if w["kind"] == "internet-egress"]
    assert any(w["subject"] == "acme/shop-frontend -> ip:198.51.100.7" for w in internet), out["warnings"]


def test_diff_sees_a_latent_selector_added(dev, tmp_path, capsys):
    old = namespaced(copy.deepcopy(dev.manifests()))
    new = [*copy.deepcopy(old), _into_db("any-dba", LATENT["any-namespace-dba"])]
    out = _run_diff(tmp_path, capsys, old, new)
    gained = [f for f in out["flows"]["gained"] if f["to"] == "acme/shop-database"]
    assert gained, out["flows"]
    assert any(w["kind"] == "database" for w in out["warnings"])
    assert any(w["kind"] == "cross-tenant" for w in out["warnings"])  # globex could create the pod


def test_diff_of_identical_inputs_stays_empty(dev, tmp_path, capsys):
    out = _run_diff(tmp_path, capsys, namespaced(dev.manifests()), namespaced(dev.manifests()))
    assert out["flows"] == {"gained": [], "lost": []} and out["warnings"] == []
