"""stackconfig/models.py, the stack config contract (DESIGN.md "Stack config"): what is accepted, what it defaults
to, which fields are required, and the field rules the models hold themselves (Kubernetes version, CNI name)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from stackconfig import StackConfig, parse_config, read_stack_file
from tests.stackconfig.helpers import APP0, T0, Pinned, app, lb, nets, ok, problems, problems_of_app, tenant, values



def test_minimal_config_gets_every_design_default() -> None:
    parsed = ok({
        "cluster": {"cni": "calico"},
        "tenants": [{"name": "acme", "apps": [{
            "name": "shop", "frontend": {"image": "nginx:1.27"}, "backend": {"image": "shop-api:1"},
        }]}],
    })
    assert parsed.warnings == []
    cluster = parsed.config.cluster
    assert (cluster.cni, cluster.allow_unenforced_policies, cluster.kubernetes_version, cluster.protect) == (
        "calico", False, "1.32", False)
    assert (cluster.dns.namespace, cluster.dns.pod_labels) == ("kube-system", {"k8s-app": "kube-dns"})
    assert (cluster.monitoring.namespace, cluster.monitoring.pod_labels) == (
        "monitoring", {"app.kubernetes.io/name": "prometheus"})
    proxy = cluster.egress_proxy
    assert (proxy.enabled, proxy.namespace, proxy.port) == (True, "egress-proxy", 3128)
    assert proxy.cluster_cidrs == nets(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    assert proxy.image

    [acme] = parsed.config.tenants
    assert acme.owners == []
    assert (acme.quota.cpu, acme.quota.memory, acme.quota.pods, acme.quota.storage) == ("4", "8Gi", 30, "20Gi")
    assert acme.pod_security == "restricted"
    [shop] = acme.apps
    assert shop.metrics_port == 9090
    assert shop.consumers == []
    assert (shop.frontend.port, shop.frontend.replicas, shop.frontend.load_balancer) == (8080, 2, None)
    assert (shop.backend.port, shop.backend.replicas, shop.backend.internet_egress) == (8080, 2, False)
    database = shop.database
    assert (database.image, database.port, database.replicas, database.storage) == ("postgres:16", 5432, 1, "10Gi")
    # Restricted Pod Security refuses root; every tier must default to a non-root user and a read-only root.
    for workload in (shop.frontend, shop.backend, database, proxy):
        assert workload.run_as_user > 0
        assert workload.read_only_root_filesystem is True


def test_a_tenant_needs_only_a_name() -> None:
    [acme] = ok({"cluster": {"cni": "cilium"}, "tenants": [{"name": "acme"}]}).config.tenants
    assert (acme.name, acme.apps) == ("acme", [])


DESIGN_EXAMPLE = """\
config:
  tenancy:cluster:
    cni: calico
    allowUnenforcedPolicies: false
    kubernetesVersion: "1.32"
    protect: false
    dns: {namespace: kube-system, podLabels: {k8s-app: kube-dns}}
    monitoring: {namespace: monitoring, podLabels: {app.kubernetes.io/name: prometheus}}
    egressProxy: {enabled: true, namespace: egress-proxy, image: "ubuntu/squid:6.10-24.10_beta", port: 3128,
                  clusterCidrs: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]}
  tenancy:tenants:
    - name: acme
      owners: [acme-admins]
      quota: {cpu: "4", memory: 8Gi, pods: 30, storage: 20Gi}
      apps:
        - name: shop
          metricsPort: 9090
          frontend: {image: nginx:1.27, port: 8080, replicas: 2,
                     loadBalancer: {sourceRanges: [203.0.113.0/24]}}
          backend:  {image: ghcr.io/acme/shop-api:1.4.2, port: 8080, replicas: 2, internetEgress: true}
          database: {image: postgres:16, port: 5432, storage: 10Gi}
          consumers:
            - {tenant: globex, app: portal, tier: backend}
    - name: globex
      owners: [globex-admins]
      apps:
        - name: portal
          frontend: {image: nginx:1.27}
          backend: {image: ghcr.io/globex/portal:2.0}
"""


def test_design_example_is_accepted_as_written(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(DESIGN_EXAMPLE, encoding="utf-8")
    parsed = parse_config(read_stack_file(stack_file).namespace_values())
    assert parsed.warnings == []
    config = parsed.config
    assert [t.name for t in config.tenants] == ["acme", "globex"]
    shop = config.tenant("acme").apps[0]
    assert config.tenant("acme").owners == ["acme-admins"]
    assert shop.frontend.load_balancer is not None
    assert shop.frontend.load_balancer.source_ranges == nets(["203.0.113.0/24"])
    assert shop.backend.internet_egress is True
    assert [(c.tenant, c.app, c.tier) for c in shop.consumers] == [("globex", "portal", "backend")]


def test_design_example_survives_a_dump_by_alias_and_reparse() -> None:
    # Components and `tenancy check` may hand a dumped config back to the parser; camelCase must round-trip.
    config = parse_config(_design_values()).config
    dumped = config.model_dump(by_alias=True, mode="json")
    assert "egressProxy" in dumped["cluster"] and "metricsPort" in dumped["tenants"][0]["apps"][0]
    assert parse_config(dumped).config == config


def _design_values() -> dict:
    document = yaml.safe_load(DESIGN_EXAMPLE)["config"]
    return {key.split(":", 1)[1]: value for key, value in document.items()}


def test_camel_case_keys_reach_their_fields() -> None:
    parsed = ok({
        "cluster": {
            "cni": "flannel", "allowUnenforcedPolicies": True, "kubernetesVersion": "1.30",
            "dns": {"podLabels": {"k8s-app": "coredns"}},
            "monitoring": {"podLabels": {"app": "prom"}},
            "egressProxy": {"clusterCidrs": ["10.0.0.0/8"], "readOnlyRootFilesystem": False, "runAsUser": 13},
        },
        "tenants": [tenant("acme", app(
            metricsPort=9100,
            frontend={"loadBalancer": {"sourceRanges": ["198.51.100.0/24"]}, "writablePaths": ["/cache"]},
            backend={"internetEgress": True, "runAsUser": 2000},
            database={"storageClass": "fast-ssd", "dataPath": "/data", "passwordSecret": "shop-db"},
        ), podSecurity="baseline")],
    })
    cluster = parsed.config.cluster
    assert cluster.allow_unenforced_policies is True
    assert cluster.kubernetes_version == "1.30"
    assert cluster.dns.pod_labels == {"k8s-app": "coredns"}
    assert cluster.monitoring.pod_labels == {"app": "prom"}
    assert cluster.egress_proxy.cluster_cidrs == nets(["10.0.0.0/8"])
    assert (cluster.egress_proxy.read_only_root_filesystem, cluster.egress_proxy.run_as_user) == (False, 13)
    acme = parsed.config.tenants[0]
    assert acme.pod_security == "baseline"
    shop = acme.apps[0]
    assert shop.metrics_port == 9100
    assert shop.frontend.load_balancer.source_ranges == nets(["198.51.100.0/24"])
    assert shop.frontend.writable_paths == ["/cache"]
    assert (shop.backend.internet_egress, shop.backend.run_as_user) == (True, 2000)
    assert (shop.database.storage_class, shop.database.data_path, shop.database.password_secret) == (
        "fast-ssd", "/data", "shop-db")


def test_parsed_config_is_immutable() -> None:
    # Components receive the same model; one must not be able to change what another sees.
    config: StackConfig = ok(values()).config
    with pytest.raises(ValidationError, match="frozen"):
        config.cluster.cni = "flannel"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------- required fields
# "required" and "must not be empty" are worded by tests/bad_configs/29-missing-tenants, 30-missing-cni,
# 05-typo-loadbalancer-key and 28-empty-tenant-list; here, which fields they apply to.

@pytest.mark.parametrize(("raw", "expected"), [
    ({}, [Pinned("tenancy:cluster"), Pinned("tenancy:tenants")]),
    ({"cluster": {}, "tenants": []}, [Pinned("tenancy:cluster.cni"), Pinned("tenancy:tenants")]),
    ({"cluster": {"cni": "calico"}, "tenants": [{"apps": [{"frontend": {"image": "a:1"}}]}]},
     [Pinned(f"{T0}.name"), Pinned(f"{APP0}.name"), Pinned(f"{APP0}.backend")]),
    ({"cluster": {"cni": "calico"}, "tenants": [tenant("acme", app(consumers=[{}]))]},
     [Pinned(f"{APP0}.consumers[0].tenant"), Pinned(f"{APP0}.consumers[0].app")]),
])
def test_required_fields(raw: dict, expected: list[Pinned]) -> None:
    assert problems(raw) == expected


def test_frontend_and_backend_images_have_no_default() -> None:
    assert problems(values(tenant("acme", {"name": "shop", "frontend": {}, "backend": {"port": 8081}}))) == [
        Pinned(f"{APP0}.frontend.image"),
        Pinned(f"{APP0}.backend.image"),
    ]


def test_load_balancer_needs_at_least_one_range() -> None:
    assert problems_of_app(frontend=lb()) == [Pinned(f"{APP0}.frontend.loadBalancer.sourceRanges")]
    assert problems_of_app(frontend={"loadBalancer": {}}) == [Pinned(f"{APP0}.frontend.loadBalancer.sourceRanges")]


# ------------------------------------------------------------------------------------------- Kubernetes version

# YAML reads an unquoted 1.30 as 1.3: refusing every float is the only way to catch that. Wording pinned by
# tests/bad_configs/39-kubernetes-version-float, which also reads it from a stack file.
@pytest.mark.parametrize(("version", "read_as"), [(1.30, "1.3"), (1.32, "1.32")])
def test_kubernetes_version_written_as_a_yaml_float(version: float, read_as: str) -> None:
    assert problems(values(kubernetesVersion=version)) == [Pinned("tenancy:cluster.kubernetesVersion", read_as)]


@pytest.mark.parametrize(("version", "why"), [
    (1, 'must be a string such as "1.32", got 1'),
    ("v1.30", "'v1.30' is not a Kubernetes minor version such as \"1.32\""),
    ("1.30.2", "'1.30.2' is not a Kubernetes minor version such as \"1.32\""),
    ("2.0", "'2.0' is not a Kubernetes minor version such as \"1.32\""),
])
def test_invalid_kubernetes_versions(version: Any, why: str) -> None:
    assert problems(values(kubernetesVersion=version)) == [f"tenancy:cluster.kubernetesVersion: {why}"]


def test_quoted_kubernetes_version_is_kept_verbatim() -> None:
    assert ok(values(kubernetesVersion="1.30")).config.cluster.kubernetes_version == "1.30"


# ---------------------------------------------------------------------------------------------------- CNI name

@pytest.mark.parametrize(("name", "why"), [
    ("", "must name the cluster's CNI plugin (e.g. calico, cilium), got ''"),
    ("  ", "must name the cluster's CNI plugin (e.g. calico, cilium), got '  '"),
    # `cni:` left empty in YAML is null, not the "none" plugin.
    (None, "must name the cluster's CNI plugin (e.g. calico, cilium), got None"),
    (False, "must name the cluster's CNI plugin (e.g. calico, cilium), got False"),
])
def test_cni_must_be_named(name: Any, why: str) -> None:
    assert problems(values(cni=name)) == [f"tenancy:cluster.cni: {why}"]
