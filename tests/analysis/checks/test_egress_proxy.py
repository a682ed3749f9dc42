"""The egress proxy admits exactly the declared backends (their namespace by kubernetes.io/metadata.name, their pods
by part-of + component), and `egress-via-proxy` judges every source that reaches it, whatever its namespace."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from analysis.checks.invariants import check
from analysis.reachability import Engine, load_objects
from specs.plan import stack_objects
from stackconfig import parse_config, read_stack_file

REPO_ROOT = Path(__file__).resolve().parents[3]

BACKEND = {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/component": "backend"}
# What the proxy's ingress was before: any pod labelled for internet egress in any namespace labelled as a tenant.
OLD_PROXY_INGRESS = {
    "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "tenancy-platform",
                                    "app.kubernetes.io/component": "egress-proxy"}},
    "policyTypes": ["Ingress"],
    "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{"key": "tenancy/tenant", "operator": "Exists"}]},
                           "podSelector": {"matchLabels": {"tenancy/internet-egress": "true"}}}],
                 "ports": [{"port": 3128, "protocol": "TCP"}]}],
}


def _config(values: dict | None = None):
    values = values or read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()
    return parse_config(values).config


def _pod(namespace: str, name: str, labels: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "curl"}]}}


def _mimic() -> list[dict]:
    """A namespace someone created with a tenant's labels copied, and a pod copying a backend's labels, free to
    send anywhere (no policy in its namespace)."""
    return [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "mimic", "labels": {"tenancy/tenant": "acme"}}},
            _pod("mimic", "curl", {**BACKEND, "tenancy/internet-egress": "true"})]


def _with_old_proxy_policy(objects: list[dict]) -> list[dict]:
    out = copy.deepcopy(objects)
    for obj in out:
        if obj["kind"] == "NetworkPolicy" and obj["metadata"]["name"] == "egress-proxy-from-tenants":
            obj["spec"] = copy.deepcopy(OLD_PROXY_INGRESS)
    return out


def namespaced(objects: list[dict]) -> list[dict]:
    """Without cluster-scoped admin policies (a stack may render them): these tests are about the proxy's own
    NetworkPolicy and the rule that judges it, so no admin-tier deny may hide what they let through."""
    return [o for o in objects if not (o["kind"].endswith("NetworkPolicy") and o["kind"] != "NetworkPolicy")]


def _flow(objects: list[dict], src: str, port: int = 3128) -> bool:
    return Engine(load_objects(namespaced(objects))).verdict(src, "egress-proxy/egress-proxy", port).allowed


def test_the_proxy_admits_exactly_the_declared_backends():
    objects = stack_objects(_config())
    [policy] = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "egress-proxy-from-tenants"]
    [rule] = policy["spec"]["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "acme"}},
                             "podSelector": {"matchLabels": BACKEND}}]
    assert _flow(objects, "acme/shop-backend")
    assert not _flow(objects, "acme/shop-frontend")


def test_a_namespace_copying_a_tenants_labels_does_not_reach_the_proxy():
    objects = [*stack_objects(_config()), *_mimic()]
    assert not _flow(objects, "mimic/curl")
    assert _flow(_with_old_proxy_policy(objects), "mimic/curl")  # what the old policy let through


def test_a_tenant_labelling_its_own_pod_and_adding_egress_does_not_reach_the_proxy():
    objects = stack_objects(_config())
    for obj in objects:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "portal-frontend":
            obj["spec"]["template"]["metadata"]["labels"]["tenancy/internet-egress"] = "true"
    objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "to-proxy", "namespace": "globex"},
                    "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}})
    assert not _flow(objects, "globex/portal-frontend")


def test_no_declared_backend_means_the_proxy_admits_no_one():
    values = read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()
    values = copy.deepcopy(values)
    for tenant in values["tenants"]:
        for app in tenant.get("apps", []):
            app["backend"].pop("internetEgress", None)
    objects = stack_objects(_config(values))
    [policy] = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "egress-proxy-from-tenants"]
    assert policy["spec"]["ingress"] == [] and policy["spec"]["policyTypes"] == ["Ingress"]
    assert not _flow([*objects, *_mimic()], "mimic/curl")


@pytest.mark.parametrize("with_stack", [True, False])
def test_check_reports_a_mimic_namespace_reaching_the_proxy(dev, with_stack):
    manifests = _with_old_proxy_policy(namespaced([*dev.manifests(), *_mimic()]))
    found = check(manifests, _config() if with_stack else None)
    proxy = {v.subject: v.why for v in found if v.rule == "egress-via-proxy"}
    assert "not a tenant namespace" in proxy["mimic/curl -> egress-proxy/egress-proxy"], found
    # (pods other tenants or new namespaces could create with the copied labels are reported too)
    assert all(s.endswith(" -> egress-proxy/egress-proxy") for s in proxy), proxy


def test_the_render_with_its_proxy_policy_is_clean(dev):
    assert check(dev.manifests(), _config()) == []
    assert check([*dev.manifests(), *_mimic()], _config()) == []
