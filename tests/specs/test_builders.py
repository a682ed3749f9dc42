"""The non-policy builders one by one, from a parsed config and without Pulumi: what each object promises."""

from __future__ import annotations

import pytest

from kube.labels import COMPONENT, INTERNET_EGRESS, NAME, PART_OF, TENANT
from specs import tenant as tenant_specs
from specs import workloads
from specs.plan import app_objects, stack_objects
from stackconfig import StackConfig, parse_config

TENANTS = [
    {"name": "acme", "owners": ["acme-admins"], "quota": {"cpu": "4", "memory": "8Gi", "pods": 20, "storage": "20Gi"},
     "apps": [{"name": "shop",
               "frontend": {"image": "web:1", "port": 8080, "loadBalancer": {"sourceRanges": ["203.0.113.0/24"]}},
               "backend": {"image": "api:1", "port": 8000, "internetEgress": True},
               "database": {"storage": "5Gi"}}]},
    {"name": "globex", "apps": [{"name": "portal", "frontend": {"image": "web:1"}, "backend": {"image": "api:1"},
                                 "database": {"storage": "1Gi"}}]},
]


@pytest.fixture(scope="module")
def config() -> StackConfig:
    return parse_config({"cluster": {"cni": "calico", "egressProxy": {"enabled": True}}, "tenants": TENANTS}).config


def test_namespace_is_named_after_the_tenant_and_carries_its_label(config):
    ns = tenant_specs.namespace(config.tenants[0])
    assert ns["kind"] == "Namespace" and ns["metadata"]["name"] == "acme"
    assert ns["metadata"]["labels"][TENANT] == "acme"


def test_quota_counts_only_the_declared_load_balancers(config):
    acme, globex = config.tenants
    assert tenant_specs.resource_quota(acme)["spec"]["hard"]["services.loadbalancers"] == "1"
    assert tenant_specs.resource_quota(globex)["spec"]["hard"]["services.loadbalancers"] == "0"
    assert tenant_specs.resource_quota(acme)["spec"]["hard"]["pods"] == "20"


def test_owners_binding_exists_only_with_owners(config):
    acme, globex = config.tenants
    binding = tenant_specs.owners_binding(acme)
    assert binding is not None and [s["name"] for s in binding["subjects"]] == ["acme-admins"]
    assert binding["roleRef"]["name"] == "admin"
    assert tenant_specs.owners_binding(globex) is None


def test_deployment_pods_carry_the_label_contract(config):
    acme = config.tenants[0]
    backend = workloads.deployment(acme, acme.apps[0], "backend")
    labels = backend["spec"]["template"]["metadata"]["labels"]
    assert labels[NAME] == "shop-backend" and labels[PART_OF] == "shop" and labels[COMPONENT] == "backend"
    assert labels[TENANT] == "acme" and labels[INTERNET_EGRESS] == "true"
    frontend = workloads.deployment(acme, acme.apps[0], "frontend")
    assert INTERNET_EGRESS not in frontend["spec"]["template"]["metadata"]["labels"]


def test_load_balanced_frontend_service_keeps_client_addresses(config):
    acme, globex = config.tenants
    spec = workloads.service(acme, acme.apps[0], "frontend")["spec"]
    assert spec["type"] == "LoadBalancer" and spec["externalTrafficPolicy"] == "Local"
    assert spec["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    assert workloads.service(globex, globex.apps[0], "frontend")["spec"]["type"] == "ClusterIP"
    assert workloads.service(acme, acme.apps[0], "database")["spec"]["clusterIP"] == "None"


def test_database_is_a_statefulset_reading_its_password_from_nothing_it_holds(config):
    acme = config.tenants[0]
    statefulset = workloads.statefulset(acme, acme.apps[0])
    assert statefulset["kind"] == "StatefulSet" and statefulset["metadata"]["name"] == "shop-database"
    env = statefulset["spec"]["template"]["spec"]["containers"][0].get("env", [])
    assert all("value" not in e or e["name"] != "POSTGRES_PASSWORD" for e in env)


def test_app_objects_are_all_in_the_tenant_namespace(config):
    acme = config.tenants[0]
    objects = app_objects(acme, acme.apps[0], config.cluster).all()
    assert objects and {o["metadata"]["namespace"] for o in objects} == {"acme"}


def test_stack_objects_have_unique_identities(config):
    keys = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in stack_objects(config)]
    assert len(keys) == len(set(keys))
    assert ("Namespace", None, "egress-proxy") in keys
