"""Apiserver-grade validation and the upstream schema: what `check` reports as invalid-object / openapi-schema
(exit 1) for objects the engine can read but the API server would still refuse."""

from __future__ import annotations

import copy

import pytest
import yaml

from tenancy.cli import main
from analysis.checks.validation import extra_problems, loader_problems, object_problems, resolve_version, validate

from .bad_manifests import CORPUS_DIR, expected_problems


def service(**spec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop-frontend", "namespace": "acme"},
            "spec": {"selector": {"app.kubernetes.io/name": "shop-frontend"},
                     "ports": [{"name": "serve", "port": 8080, "targetPort": "serve"}], **spec}}


def deployment(template_labels: dict, container: str = "web") -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "acme"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": template_labels},
                                  "spec": {"containers": [{"name": container, "image": "nginx"}]}}}}


def test_every_rendered_object_is_valid_for_its_kubernetes_version(any_stack):
    version = any_stack.parsed.config.cluster.kubernetes_version
    assert validate(any_stack.manifests(), version) == ([], [])


@pytest.mark.parametrize("obj, problems", [
    (service(ports=[{"name": "serve", "port": 70000}]), ["spec.ports[0].port: port 70000 out of range 1-65535"]),
    (service(ports=[{"port": 80}, {"port": 443}]), ["spec.ports[0].name: required when a Service has more than one port",
                                                   "spec.ports[1].name: required when a Service has more than one port"]),
    (service(ports=[{"name": "serve", "port": 80, "targetPort": "Web_Port"}]),
     ["spec.ports[0].targetPort: invalid named port 'Web_Port' (must be an IANA service name with a letter)"]),
    (service(type="LoadBalancer", loadBalancerSourceRanges=["203.0.113.0/24", "203.0.113.7"]),
     ["spec.loadBalancerSourceRanges[1]: invalid CIDR '203.0.113.7'"]),
    (service(externalTrafficPolicy="Local"),
     ["spec.externalTrafficPolicy: may only be set when type is 'NodePort' or 'LoadBalancer'"]),
    (deployment({"app": "api"}), ["spec.template.metadata.labels: selector does not match template labels"]),
    (deployment({"app": "web"}, container="Web"),
     ["spec.template.spec.containers[0].name: invalid container name 'Web': must be a lowercase RFC 1123 label "
      "(a-z, 0-9 and '-', starting and ending with a letter or digit)"]),
    ({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
      "metadata": {"name": "x", "namespace": "acme", "annotations": {"Owner Team": "a"}},
      "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress", "Ingress"]}},
     ["metadata.annotations: invalid annotation key 'Owner Team': has name part 'owner team' that must use only "
      "letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
      "spec.policyTypes: may not specify more than two policyTypes"]),
])
def test_api_server_rules_beyond_what_the_engine_reads(obj, problems):
    assert loader_problems(obj) == []  # readable: the engine would analyse it
    assert extra_problems(obj) == problems


def test_a_single_object_gets_the_loaders_own_messages():
    # The CrossGuard per-object policy validates without files; its lines are the corpus's, minus the location.
    path = CORPUS_DIR / "08-bad-cidr.yaml"
    obj = yaml.safe_load(path.read_text())
    prefix = f"{path.name} doc 1: "
    assert object_problems(obj) == [line[len(prefix):] for line in expected_problems(path)]


def test_schema_catches_what_no_rule_names():
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "default-deny", "namespace": "acme"},
              "spec": {"podSelector": {}, "policyType": ["Ingress"]}}  # misspelt: silently ignored by a lax reader
    found, notes = validate([policy], "1.32")
    assert [str(v) for v in found] == [
        "openapi-schema NetworkPolicy acme/default-deny: spec: Additional properties are not allowed ('policyType' "
        "was unexpected) (Kubernetes 1.32)"]
    assert notes == []


def test_versions_kubernetes_validate_does_not_ship_are_mapped_with_a_note():
    assert resolve_version("1.32") == ("1.32", None)
    older, note = resolve_version("1.9")
    assert older == "1.25" and "not 1.9; validating against 1.25" in note  # not the newest, as string order would pick
    newer, note = resolve_version("1.99")
    assert newer != "1.99" and f"validating against {newer}" in note


def test_kinds_without_a_schema_are_noted_not_failed():
    crd = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "shop",
                                                                                             "namespace": "acme"}}
    found, notes = validate([crd], "1.32")
    assert found == []
    assert len(notes) == 1 and "ServiceMonitor" in notes[0] and "not schema-validated" in notes[0]


def test_check_reports_readable_invalid_objects_with_exit_1_and_their_location(dev, tmp_path, capsys):
    manifests = copy.deepcopy(dev.manifests())
    # Two mistakes the engine does not care about: a port out of range (no schema maximum catches it) and a
    # misspelt field (no apiserver rule names it).
    manifests.append(service(ports=[{"name": "serve", "port": 70000}], sessionAfinity="None") | {
        "metadata": {"name": "extra", "namespace": "acme"}})
    path = tmp_path / "all.yaml"
    path.write_text(yaml.safe_dump_all(manifests), encoding="utf-8")
    assert main(["check", str(path), "--stack", "dev", "--kubernetes-version", "1.24"]) == 1
    out, err = capsys.readouterr()
    where = f"({path} doc {len(manifests)})"
    assert out.splitlines() == [
        f"invalid-object Service acme/extra: spec.ports[0].port: port 70000 out of range 1-65535 {where}",
        "openapi-schema Service acme/extra: spec: Additional properties are not allowed ('sessionAfinity' was "
        f"unexpected) (Kubernetes 1.25) {where}",
    ]
    assert "note: kubernetes-validate" in err and "not 1.24; validating against 1.25" in err


def test_objects_of_a_clean_load_get_the_same_findings_without_asking_the_loader_again(dev, monkeypatch):
    from analysis.checks import validation
    from analysis.reachability import load_objects

    manifests = copy.deepcopy(dev.manifests())
    manifests.append(service(ports=[{"name": "serve", "port": 70000}], sessionAfinity="None") | {
        "metadata": {"name": "extra", "namespace": "acme"}})
    cluster = load_objects(manifests)  # loads: the engine does not read a Service's port range
    objects = [r.obj for r in cluster.resources]
    expected = validate(objects, "1.32")
    monkeypatch.setattr(validation, "loader_problems", lambda obj: pytest.fail("loader asked again"))
    monkeypatch.setattr(validation, "object_problems", lambda obj: pytest.fail("loader asked again"))
    assert validate(objects, "1.32", loaded=True) == expected
    assert any("port 70000 out of range" in str(v) for v in expected[0])
