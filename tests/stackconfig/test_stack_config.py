"""The stack config contract (DESIGN.md "Stack config"): what is accepted, what it defaults to, and the exact line
a user reads for each rule that refuses a config."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from stackconfig import ConfigError, ParsedConfig, StackConfig, parse_config, read_stack_file
from stackconfig import cni
from stackconfig.quantity import format_quantity, parse_quantity

T0 = "tenancy:tenants[0]"
APP0 = f"{T0}.apps[0]"


def app(name: str = "shop", frontend: dict | None = None, backend: dict | None = None, **fields: Any) -> dict:
    return {
        "name": name,
        "frontend": {"image": "nginx:1.27", **(frontend or {})},
        "backend": {"image": "ghcr.io/acme/shop-api:1.4.2", **(backend or {})},
        **fields,
    }


def tenant(name: str = "acme", *apps: dict, **fields: Any) -> dict:
    return {"name": name, "apps": list(apps), **fields}


def values(*tenants: dict, **cluster: Any) -> dict:
    return {"cluster": {"cni": "calico", **cluster}, "tenants": list(tenants) or [tenant()]}


def ok(raw: dict) -> ParsedConfig:
    return parse_config(raw)


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.problems


def problems_of_app(**fields: Any) -> list[str]:
    return problems(values(tenant("acme", app(**fields))))


# --------------------------------------------------------------------------------------------------- good configs

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
    assert proxy.cluster_cidrs == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
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
    assert shop.frontend.load_balancer.source_ranges == ["203.0.113.0/24"]
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
    assert cluster.egress_proxy.cluster_cidrs == ["10.0.0.0/8"]
    assert (cluster.egress_proxy.read_only_root_filesystem, cluster.egress_proxy.run_as_user) == (False, 13)
    acme = parsed.config.tenants[0]
    assert acme.pod_security == "baseline"
    shop = acme.apps[0]
    assert shop.metrics_port == 9100
    assert shop.frontend.load_balancer.source_ranges == ["198.51.100.0/24"]
    assert shop.frontend.writable_paths == ["/cache"]
    assert (shop.backend.internet_egress, shop.backend.run_as_user) == (True, 2000)
    assert (shop.database.storage_class, shop.database.data_path, shop.database.password_secret) == (
        "fast-ssd", "/data", "shop-db")


def test_numbers_written_as_quoted_digits_are_accepted() -> None:
    # `pulumi config set --path ...frontend.port 8081` stores the string "8081".
    shop = ok(values(tenant("acme", app(frontend={"port": "8081", "replicas": "1"})))).config.tenants[0].apps[0]
    assert (shop.frontend.port, shop.frontend.replicas) == (8081, 1)


def test_yaml_numbers_are_accepted_as_quantities() -> None:
    quota = ok(values(tenant("acme", quota={"cpu": 8, "memory": "16Gi"}))).config.tenants[0].quota
    assert quota.cpu == "8"


# ------------------------------------------------------------------------------------------- types.py: scalars

@pytest.mark.parametrize(("port", "expected"), [(1, 1), (65535, 65535), ("443", 443)])
def test_valid_ports(port: Any, expected: int) -> None:
    assert ok(values(tenant("acme", app(backend={"port": port})))).config.tenants[0].apps[0].backend.port == expected


@pytest.mark.parametrize(("port", "why"), [
    (0, "must be between 1 and 65535, got 0"),
    (65536, "must be between 1 and 65535, got 65536"),
    (70000, "must be between 1 and 65535, got 70000"),
    (-1, "must be between 1 and 65535, got -1"),
    (True, "must be a port number, got True"),
    (False, "must be a port number, got False"),
    ("http", "must be a port number, got 'http'"),
    (8080.0, "must be a port number, got 8080.0"),
    (None, "must be a port number, got None"),
    ([8080], "must be a port number, got [8080]"),
])
def test_invalid_ports(port: Any, why: str) -> None:
    assert problems_of_app(backend={"port": port}) == [f"{APP0}.backend.port: {why}"]


def test_every_port_field_is_checked() -> None:
    assert problems(values(tenant("acme", app(metricsPort=0)), dns={"port": 0}, egressProxy={"port": 99999})) == [
        "tenancy:cluster.dns.port: must be between 1 and 65535, got 0",
        "tenancy:cluster.egressProxy.port: must be between 1 and 65535, got 99999",
        f"{APP0}.metricsPort: must be between 1 and 65535, got 0",
    ]


@pytest.mark.parametrize(("replicas", "why"), [
    (-1, "must be 0 or more, got -1"),
    ("two", "must be a whole number, got 'two'"),
    (1.5, "must be a whole number, got 1.5"),
    (True, "must be a whole number, got True"),
])
def test_invalid_replicas(replicas: Any, why: str) -> None:
    assert problems_of_app(frontend={"replicas": replicas}) == [f"{APP0}.frontend.replicas: {why}"]


def test_zero_replicas_is_allowed_to_park_a_tier() -> None:
    assert ok(values(tenant("acme", app(frontend={"replicas": 0})))).config.tenants[0].apps[0].frontend.replicas == 0


def test_run_as_user_zero_would_be_root() -> None:
    assert problems_of_app(backend={"runAsUser": 0}) == [f"{APP0}.backend.runAsUser: must be 1 or more, got 0"]


@pytest.mark.parametrize("name", ["a", "acme", "acme-2", "2acme", "a" * 63])
def test_valid_tenant_names(name: str) -> None:
    assert ok(values(tenant(name))).config.tenants[0].name == name


INVALID_NAME = ("is not a valid Kubernetes name: use lower-case letters, digits and '-', starting and ending with a "
                "letter or digit")


@pytest.mark.parametrize(("name", "why"), [
    ("Acme", f"'Acme' {INVALID_NAME}"),
    ("acme_corp", f"'acme_corp' {INVALID_NAME}"),
    ("-acme", f"'-acme' {INVALID_NAME}"),
    ("acme-", f"'acme-' {INVALID_NAME}"),
    ("acme.corp", f"'acme.corp' {INVALID_NAME}"),
    ("", f"'' {INVALID_NAME}"),
    ("a" * 64, f"'{'a' * 64}' is 64 characters; a Kubernetes name label allows at most 63"),
    (7, "must be a name (a string), got 7"),
    (None, "must be a name (a string), got None"),
])
def test_invalid_tenant_names(name: Any, why: str) -> None:
    assert problems(values(tenant(name))) == [f"{T0}.name: {why}"]


def test_app_names_must_start_with_a_letter_because_they_name_services() -> None:
    assert problems_of_app(name="2shop") == [
        f"{APP0}.name: '2shop' must start with a letter: it names Services (DNS-1035 labels)"]


def test_app_names_follow_the_dns_label_rules_too() -> None:
    assert problems_of_app(name="Shop") == [f"{APP0}.name: 'Shop' {INVALID_NAME}"]


def test_app_name_length_is_bounded_by_its_statefulset_name() -> None:
    longest = "a" * 43
    assert ok(values(tenant("acme", app(longest)))).config.tenants[0].apps[0].name == longest
    assert problems_of_app(name="a" * 44) == [
        f"{APP0}.name: '{'a' * 44}' is too long: its StatefulSet '{'a' * 44}-database' would have 53 characters, "
        "Kubernetes allows 52 (at most 43 for the app name)"
    ]


def lb(*ranges: Any) -> dict:
    return {"loadBalancer": {"sourceRanges": list(ranges)}}


@pytest.mark.parametrize(("written", "stored"), [
    ("203.0.113.0/24", "203.0.113.0/24"),
    ("0.0.0.0/0", "0.0.0.0/0"),
    ("198.51.100.7/32", "198.51.100.7/32"),
    ("2001:db8::/32", "2001:db8::/32"),
    # Any valid spelling of a network is accepted and stored in its canonical form.
    ("2001:DB8::/32", "2001:db8::/32"),
    ("2001:db8:0::/48", "2001:db8::/48"),
])
def test_valid_cidrs(written: str, stored: str) -> None:
    shop = ok(values(tenant("acme", app(frontend=lb(written))))).config.tenants[0].apps[0]
    assert shop.frontend.load_balancer.source_ranges == [stored]


NOT_A_CIDR = "is not a valid CIDR (expected e.g. 203.0.113.0/24 or 2001:db8::/32)"


@pytest.mark.parametrize(("cidr", "why"), [
    ("203.0.113.7", "'203.0.113.7' has no prefix length; write 203.0.113.7/32"),
    ("2001:db8::1", "'2001:db8::1' has no prefix length; write 2001:db8::1/128"),
    ("203.0.113.7/24", "'203.0.113.7/24' has host bits set; the network is 203.0.113.0/24"),
    ("2001:db8::1/32", "'2001:db8::1/32' has host bits set; the network is 2001:db8::/32"),
    ("office", f"'office' {NOT_A_CIDR}"),
    ("10.0.0.0/33", f"'10.0.0.0/33' {NOT_A_CIDR}"),
    ("300.0.0.0/8", f"'300.0.0.0/8' {NOT_A_CIDR}"),
    ("2001:db8::g/64", f"'2001:db8::g/64' {NOT_A_CIDR}"),
    ("2001:db8:::/64", f"'2001:db8:::/64' {NOT_A_CIDR}"),
    ("2001:db8::/129", f"'2001:db8::/129' {NOT_A_CIDR}"),
    ("", f"'' {NOT_A_CIDR}"),
    (10, "must be a CIDR (a string), got 10"),
])
def test_invalid_cidrs(cidr: Any, why: str) -> None:
    assert problems_of_app(frontend=lb(cidr)) == [f"{APP0}.frontend.loadBalancer.sourceRanges[0]: {why}"]


def test_cluster_cidrs_are_checked_like_any_cidr() -> None:
    assert problems(values(egressProxy={"clusterCidrs": ["10.0.0.0/8", "10.96.0.1/12"]})) == [
        "tenancy:cluster.egressProxy.clusterCidrs[1]: '10.96.0.1/12' has host bits set; the network is 10.96.0.0/12"]


def test_load_balancer_needs_at_least_one_range() -> None:
    assert problems_of_app(frontend=lb()) == [f"{APP0}.frontend.loadBalancer.sourceRanges: must not be empty"]
    assert problems_of_app(frontend={"loadBalancer": {}}) == [f"{APP0}.frontend.loadBalancer.sourceRanges: required"]


@pytest.mark.parametrize(("written", "stored"), [
    ("500m", "500m"), ("2", "2"), (2, "2"), (0.5, "0.5"), ("1.5", "1.5"), (".5", ".5"), ("8Gi", "8Gi"),
    ("512Mi", "512Mi"), ("1G", "1G"), ("100k", "100k"),
])
def test_valid_quantities(written: Any, stored: str) -> None:
    assert ok(values(tenant("acme", quota={"cpu": written}))).config.tenants[0].quota.cpu == stored


QUANTITY_HINT = "is not a Kubernetes quantity (e.g. '500m', '2', '8Gi')"


@pytest.mark.parametrize(("quantity", "why"), [
    ("four", f"'four' {QUANTITY_HINT}"),
    ("-1", f"'-1' {QUANTITY_HINT}"),
    (-1, f"'-1' {QUANTITY_HINT}"),
    ("8GB", f"'8GB' {QUANTITY_HINT}"),
    ("8 Gi", f"'8 Gi' {QUANTITY_HINT}"),
    ("8gi", f"'8gi' {QUANTITY_HINT}"),
    ("", f"'' {QUANTITY_HINT}"),
    (True, "must be a Kubernetes quantity such as '500m', '2' or '8Gi', got True"),
    (None, "must be a quantity (a string), got None"),
])
def test_invalid_quantities(quantity: Any, why: str) -> None:
    assert problems(values(tenant("acme", quota={"memory": quantity}))) == [f"{T0}.quota.memory: {why}"]


@pytest.mark.parametrize(("text", "value"), [
    ("500m", Fraction(1, 2)), ("2", Fraction(2)), ("1.5", Fraction(3, 2)), ("1Gi", Fraction(2**30)),
    ("512Mi", Fraction(2**29)), ("1G", Fraction(10**9)), ("1k", Fraction(1000)), ("1Ki", Fraction(1024)),
])
def test_parse_quantity(text: str, value: Fraction) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(("value", "binary", "text"), [
    (Fraction(9, 2), False, "4.5"), (Fraction(3, 4), False, "750m"), (Fraction(5 * 2**30), True, "5Gi"),
    (Fraction(3 * 2**29), True, "1.5Gi"), (Fraction(768 * 2**20), True, "768Mi"), (Fraction(100), True, "100"),
])
def test_format_quantity(value: Fraction, binary: bool, text: str) -> None:
    assert format_quantity(value, binary) == text


@pytest.mark.parametrize("image", ["nginx:1.27", "ghcr.io/acme/shop-api:1.4.2", f"registry:5000/a/b@sha256:{'ab' * 32}"])
def test_valid_images(image: str) -> None:
    assert ok(values(tenant("acme", app(backend={"image": image})))).config.tenants[0].apps[0].backend.image == image


@pytest.mark.parametrize(("image", "why"), [
    ("nginx:", "'nginx:' is not a container image reference (e.g. 'nginx:1.27')"),
    ("", "'' is not a container image reference (e.g. 'nginx:1.27')"),
    ("nginx 1.27", "'nginx 1.27' is not a container image reference (e.g. 'nginx:1.27')"),
    (127, "must be a container image reference (a string), got 127"),
])
def test_invalid_images(image: Any, why: str) -> None:
    assert problems_of_app(frontend={"image": image}) == [f"{APP0}.frontend.image: {why}"]


def test_frontend_and_backend_images_have_no_default() -> None:
    assert problems(values(tenant("acme", {"name": "shop", "frontend": {}, "backend": {"port": 8081}}))) == [
        f"{APP0}.frontend.image: required",
        f"{APP0}.backend.image: required",
    ]


@pytest.mark.parametrize(("labels", "why"), [
    ({}, "must name at least one label; an empty selector would select every pod"),
    ({"k8s-app": 1}, "label 'k8s-app' must have a string value, got 1"),
    ({"k8s-app": "kube dns"}, "label 'k8s-app' has an invalid value 'kube dns'"),
    ({"bad key": "x"}, "label key 'bad key' is not a valid label name"),
    ({"Example.COM/app": "x"}, "label key 'Example.COM/app': prefix must be a DNS subdomain"),
    ({"/app": "x"}, "label key '/app': prefix must be a DNS subdomain"),
    (["k8s-app"], "must be a mapping of label keys to values, got ['k8s-app']"),
])
def test_invalid_pod_labels(labels: Any, why: str) -> None:
    assert problems(values(dns={"podLabels": labels})) == [f"tenancy:cluster.dns.podLabels: {why}"]


def test_empty_label_value_is_a_valid_selector() -> None:
    assert ok(values(monitoring={"podLabels": {"prometheus": ""}})).config.cluster.monitoring.pod_labels == {
        "prometheus": ""}


def test_paths_must_be_absolute() -> None:
    assert problems_of_app(frontend={"writablePaths": ["/tmp", "cache"]}, database={"dataPath": "data"}) == [
        f"{APP0}.frontend.writablePaths[1]: 'cache' must be an absolute path",
        f"{APP0}.database.dataPath: 'data' must be an absolute path",
    ]


# ------------------------------------------------------------------------ models.py: versions, enums, structure

@pytest.mark.parametrize(("version", "why"), [
    # YAML reads an unquoted 1.30 as 1.3: refusing every float is the only way to catch that.
    (1.30, 'must be a quoted string such as "1.32" (YAML read 1.3 as a number)'),
    (1.32, 'must be a quoted string such as "1.32" (YAML read 1.32 as a number)'),
    (1, 'must be a string such as "1.32", got 1'),
    ("v1.30", "'v1.30' is not a Kubernetes minor version such as \"1.32\""),
    ("1.30.2", "'1.30.2' is not a Kubernetes minor version such as \"1.32\""),
    ("2.0", "'2.0' is not a Kubernetes minor version such as \"1.32\""),
])
def test_invalid_kubernetes_versions(version: Any, why: str) -> None:
    assert problems(values(kubernetesVersion=version)) == [f"tenancy:cluster.kubernetesVersion: {why}"]


def test_kubernetes_version_written_as_yaml_float_is_caught_from_the_file(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  tenancy:cluster: {cni: calico, kubernetesVersion: 1.30}\n"
                          "  tenancy:tenants: [{name: acme}]\n", encoding="utf-8")
    assert problems(read_stack_file(stack_file).namespace_values()) == [
        'tenancy:cluster.kubernetesVersion: must be a quoted string such as "1.32" (YAML read 1.3 as a number)']


def test_quoted_kubernetes_version_is_kept_verbatim() -> None:
    assert ok(values(kubernetesVersion="1.30")).config.cluster.kubernetes_version == "1.30"


def test_enumerated_values_list_the_choices() -> None:
    consumer = {"tenant": "globex", "app": "portal", "tier": "database"}
    assert problems(values(tenant("acme", app(consumers=[consumer]), podSecurity="privileged"),
                           tenant("globex", app("portal")))) == [
        f"{T0}.podSecurity: must be 'restricted' or 'baseline', got 'privileged'",
        f"{APP0}.consumers[0].tier: must be 'frontend' or 'backend', got 'database'",
    ]


def test_booleans_refuse_numbers_other_than_0_and_1() -> None:
    assert problems(values(protect=2, allowUnenforcedPolicies="maybe")) == [
        "tenancy:cluster.allowUnenforcedPolicies: must be true or false, got 'maybe'",
        "tenancy:cluster.protect: must be true or false, got 2",
    ]


@pytest.mark.parametrize(("raw", "expected"), [
    ({"cluster": {"cni": "calico"}, "tenants": {"name": "acme"}}, ["tenancy:tenants: must be a list, got {'name': 'acme'}"]),
    ({"cluster": ["calico"], "tenants": [{"name": "acme"}]},
     ["tenancy:cluster: must be a mapping of keys to values, got ['calico']"]),
    ({"cluster": None, "tenants": [None]},
     ["tenancy:cluster: must be a mapping of keys to values, got None",
      "tenancy:tenants[0]: must be a mapping of keys to values, got None"]),
    ({"cluster": {"cni": "calico"}, "tenants": [{"name": "acme", "owners": "acme-admins"}]},
     [f"{T0}.owners: must be a list, got 'acme-admins'"]),
    ({"cluster": {"cni": "calico"}, "tenants": [tenant("acme", app(frontend={"loadBalancer": ["10.0.0.0/8"]}))]},
     [f"{APP0}.frontend.loadBalancer: must be a mapping of keys to values, got ['10.0.0.0/8']"]),
    ({"cluster": {"cni": "calico"}, "tenants": [tenant("acme", app(backend={"env": {"PORT": 8080}}))]},
     [f"{APP0}.backend.env.PORT: must be a string, got 8080"]),
])
def test_wrong_shapes(raw: dict, expected: list[str]) -> None:
    assert problems(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ({}, ["tenancy:cluster: required", "tenancy:tenants: required"]),
    ({"cluster": {}, "tenants": []}, ["tenancy:cluster.cni: required", "tenancy:tenants: must not be empty"]),
    ({"cluster": {"cni": "calico"}, "tenants": [{"apps": [{"frontend": {"image": "a:1"}}]}]},
     [f"{T0}.name: required", f"{APP0}.name: required", f"{APP0}.backend: required"]),
    ({"cluster": {"cni": "calico"}, "tenants": [tenant("acme", app(consumers=[{}]))]},
     [f"{APP0}.consumers[0].tenant: required", f"{APP0}.consumers[0].app: required"]),
])
def test_required_fields(raw: dict, expected: list[str]) -> None:
    assert problems(raw) == expected


# ------------------------------------------------------------------------------ unknown keys and "did you mean"

@pytest.mark.parametrize(("raw", "expected"), [
    (values(egresProxy={}),
     "tenancy:cluster.egresProxy: unknown key; did you mean 'egressProxy'? known keys: adminPolicies, "
     "allowUnenforcedPolicies, cni, dns, egressProxy, kubernetesVersion, monitoring, protect"),
    (values(dns={"podLabel": {"a": "b"}}),
     "tenancy:cluster.dns.podLabel: unknown key; did you mean 'podLabels'? known keys: namespace, podLabels, port"),
    (values(tenant("acme", owner=["x"])),
     f"{T0}.owner: unknown key; did you mean 'owners'? known keys: apps, name, owners, podSecurity, quota"),
    (values(tenant("acme", quota={"cpus": "4"})),
     f"{T0}.quota.cpus: unknown key; did you mean 'cpu'? known keys: cpu, memory, pods, storage"),
    (values(tenant("acme", app(metricPort=9100))),
     f"{APP0}.metricPort: unknown key; did you mean 'metricsPort'? known keys: backend, consumers, database, "
     "frontend, metricsPort, name"),
    (values(tenant("acme", app(database={"storge": "5Gi"}))),
     f"{APP0}.database.storge: unknown key; did you mean 'storage'? known keys: dataPath, env, image, "
     "passwordSecret, port, readOnlyRootFilesystem, replicas, resources, runAsUser, storage, storageClass, "
     "writablePaths"),
    (values(tenant("acme", app(frontend={"loadBalancer": {"sourceRanges": ["10.0.0.0/8"], "sourceRange": []}}))),
     f"{APP0}.frontend.loadBalancer.sourceRange: unknown key; did you mean 'sourceRanges'? known keys: sourceRanges"),
    (values(tenant("acme", app(consumers=[{"tenant": "acme", "app": "x", "teir": "frontend"}]))),
     f"{APP0}.consumers[0].teir: unknown key; did you mean 'tier'? known keys: app, tenant, tier"),
    # Nothing close: the known keys alone.
    (values(tenant("acme", colour="blue")),
     f"{T0}.colour: unknown key; known keys: apps, name, owners, podSecurity, quota"),
])
def test_unknown_keys_are_errors_with_a_hint(raw: dict, expected: str) -> None:
    assert expected in problems(raw)


def test_misspelt_resources_key_is_reported_with_a_hint() -> None:
    # `limits` may be left out (Kubernetes defaults it), so the typo is the one problem.
    resources = {"requests": {"cpu": "1", "memory": "1Gi"}, "limit": {"cpu": "1", "memory": "1Gi"}}
    assert problems_of_app(backend={"resources": resources}) == [
        f"{APP0}.backend.resources.limit: unknown key; did you mean 'limits'? known keys: limits, requests",
    ]


def test_unknown_tenancy_config_keys() -> None:
    raw = {**values(), "tenant": [], "network": {}}
    assert problems(raw) == [
        "tenancy:tenant: unknown config key; did you mean 'tenancy:tenants'?",
        "tenancy:network: unknown config key; known keys: tenancy:cluster, tenancy:tenants",
    ]


def test_unknown_tenancy_key_is_reported_alongside_model_problems() -> None:
    assert problems({"tenant": [], "cluster": {"cni": "calico"}}) == [
        "tenancy:tenant: unknown config key; did you mean 'tenancy:tenants'?",
        "tenancy:tenants: required",
    ]


# ------------------------------------------------------------------------------------------------ CNI (scenario 8)

@pytest.mark.parametrize("name", ["calico", "cilium", "antrea", "weave", "kube-router", "canal", "Calico", " cilium "])
def test_enforcing_cni_passes_without_enforcement_warning(name: str) -> None:
    parsed = ok(values(cni=name))
    # The one warning an enforcing CNI can get is about admin policies (issue 13): none are rendered for a CNI
    # that implements neither cluster policy API (tests/program/test_cluster_policies.py).
    assert [w for w in parsed.warnings if not w.startswith("tenancy:cluster.adminPolicies: ")] == []
    assert bool(parsed.warnings) == (name.strip().lower() not in ("calico", "antrea"))
    assert parsed.config.cluster.cni == name.strip().lower()


def refused(name: str) -> str:
    return (
        f"tenancy:cluster.cni: CNI '{name}' does not enforce NetworkPolicy: every policy this program renders would be "
        "accepted by the API server and then ignored, so tenants would not be isolated at all. Use an enforcing CNI "
        "(antrea, calico, canal, cilium, kube-router, weave), or set tenancy:cluster.allowUnenforcedPolicies: true "
        "to acknowledge that isolation is not enforced"
    )


@pytest.mark.parametrize("name", sorted(cni.NON_ENFORCING))
def test_non_enforcing_cni_is_refused(name: str) -> None:
    assert problems(values(cni=name)) == [refused(name)]


def test_non_enforcing_cni_name_is_matched_case_insensitively() -> None:
    assert problems(values(cni="Flannel")) == [refused("flannel")]


def test_acknowledged_non_enforcing_cni_is_a_warning() -> None:
    parsed = ok(values(cni="flannel", allowUnenforcedPolicies=True))
    assert parsed.warnings == [
        "tenancy:cluster.cni: CNI 'flannel' does not enforce NetworkPolicy and "
        "tenancy:cluster.allowUnenforcedPolicies is true: policies are rendered but tenants are NOT isolated on "
        "this cluster"
    ]


def test_acknowledgement_is_silent_for_an_enforcing_cni() -> None:
    assert ok(values(cni="calico", allowUnenforcedPolicies=True)).warnings == []


def test_unknown_cni_is_a_warning_not_an_error() -> None:
    warnings = ok(values(cni="my-cni")).warnings
    assert warnings[0] == (
        "tenancy:cluster.cni: CNI 'my-cni' is not known to this tool; cannot tell whether it enforces "
        "NetworkPolicy. Verify enforcement before relying on tenant isolation")
    assert warnings[1].startswith(
        "tenancy:cluster.adminPolicies: no admin-tier cluster policies: cannot tell whether CNI 'my-cni' implements")
    assert len(warnings) == 2


@pytest.mark.parametrize(("name", "why"), [
    ("", "must name the cluster's CNI plugin (e.g. calico, cilium), got ''"),
    ("  ", "must name the cluster's CNI plugin (e.g. calico, cilium), got '  '"),
    # `cni:` left empty in YAML is null, not the "none" plugin.
    (None, "must name the cluster's CNI plugin (e.g. calico, cilium), got None"),
    (False, "must name the cluster's CNI plugin (e.g. calico, cilium), got False"),
])
def test_cni_must_be_named(name: Any, why: str) -> None:
    assert problems(values(cni=name)) == [f"tenancy:cluster.cni: {why}"]


def test_cni_lists_do_not_overlap() -> None:
    assert not cni.ENFORCING & cni.NON_ENFORCING
    assert cni.classify("CALICO") is cni.CniSupport.ENFORCING
    assert cni.classify("flannel") is cni.CniSupport.NON_ENFORCING
    assert cni.classify("whatever") is cni.CniSupport.UNKNOWN


# ----------------------------------------------------------------------------- checks.py: cross-field rules

def test_overlapping_cluster_cidrs() -> None:
    assert problems(values(egressProxy={"clusterCidrs": ["10.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16",
                                                          "192.168.10.0/24"]})) == [
        "tenancy:cluster.egressProxy.clusterCidrs[1]: 10.0.0.0/8 overlaps tenancy:cluster.egressProxy.clusterCidrs[0] "
        "10.0.0.0/8; list each range once",
        "tenancy:cluster.egressProxy.clusterCidrs[3]: 192.168.10.0/24 overlaps "
        "tenancy:cluster.egressProxy.clusterCidrs[2] 192.168.0.0/16; list each range once",
    ]


def test_ipv4_and_ipv6_ranges_never_overlap() -> None:
    cidrs = ["10.0.0.0/8", "fd00::/8"]  # 10/8 and fd00::/8 share their leading bits, not their family
    assert ok(values(egressProxy={"clusterCidrs": cidrs})).config.cluster.egress_proxy.cluster_cidrs == cidrs


def test_enabled_proxy_needs_cluster_cidrs() -> None:
    assert problems(values(egressProxy={"clusterCidrs": []})) == [
        "tenancy:cluster.egressProxy.clusterCidrs: must list the cluster's pod, service and private ranges; with "
        "none the proxy could reach every pod"
    ]
    assert ok(values(egressProxy={"enabled": False, "clusterCidrs": []})).config.cluster.egress_proxy.enabled is False


def test_overlapping_load_balancer_ranges() -> None:
    assert problems_of_app(frontend=lb("2001:db8::/32", "2001:db8:1::/48")) == [
        f"{APP0}.frontend.loadBalancer.sourceRanges[1]: 2001:db8:1::/48 overlaps "
        f"{APP0}.frontend.loadBalancer.sourceRanges[0] 2001:db8::/32; list each range once"
    ]


def test_adjacent_load_balancer_ranges_do_not_overlap() -> None:
    ok(values(tenant("acme", app(frontend=lb("203.0.113.0/25", "203.0.113.128/25")))))


def test_duplicate_tenant_names() -> None:
    assert problems(values(tenant("acme"), tenant("globex"), tenant("acme"), tenant("acme"))) == [
        "tenancy:tenants[2].name: duplicate tenant 'acme' (first at tenancy:tenants[0])",
        "tenancy:tenants[3].name: duplicate tenant 'acme' (first at tenancy:tenants[0])",
    ]


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public", "kube-node-lease"])
def test_kubernetes_namespaces_cannot_be_tenants(name: str) -> None:
    assert problems(values(tenant(name))) == [
        f"{T0}.name: '{name}' is a namespace Kubernetes reserves; tenants need a namespace of their own"]


def test_kube_prefix_is_reserved() -> None:
    assert problems(values(tenant("kube-acme"))) == [
        f"{T0}.name: 'kube-acme': the 'kube-' prefix is reserved for Kubernetes system namespaces"]


def test_platform_namespaces_cannot_be_tenants() -> None:
    raw = values(tenant("monitoring"), tenant("egress-proxy"), tenant("coredns"), dns={"namespace": "coredns"})
    assert problems(raw) == [
        "tenancy:tenants[0].name: 'monitoring' is the platform namespace of tenancy:cluster.monitoring.namespace",
        "tenancy:tenants[1].name: 'egress-proxy' is the platform namespace of tenancy:cluster.egressProxy.namespace",
        "tenancy:tenants[2].name: 'coredns' is the platform namespace of tenancy:cluster.dns.namespace",
    ]


def test_moved_monitoring_namespace_frees_its_default_name() -> None:
    raw = values(tenant("monitoring"), monitoring={"namespace": "observability"})
    assert ok(raw).config.tenants[0].name == "monitoring"


def test_disabled_proxy_does_not_claim_its_namespace() -> None:
    assert ok(values(tenant("egress-proxy"), egressProxy={"enabled": False})).config.tenants[0].name == "egress-proxy"


def test_owners_must_be_distinct_groups() -> None:
    assert problems(values(tenant("acme", owners=["admins", " ", "admins"]))) == [
        f"{T0}.owners[1]: must name a group",
        f"{T0}.owners[2]: duplicate owner 'admins'",
    ]


def test_duplicate_app_names_within_a_tenant() -> None:
    raw = values(tenant("acme", app("shop"), app("blog"), app("shop"), quota={"cpu": "12", "storage": "30Gi"}))
    assert problems(raw) == [
        "tenancy:tenants[0].apps[2].name: duplicate app 'shop' in tenant 'acme' (first at tenancy:tenants[0].apps[0])"]


def test_same_app_name_in_two_tenants_is_fine() -> None:
    ok(values(tenant("acme", app("shop")), tenant("globex", app("shop"))))


@pytest.mark.parametrize("tier", ["frontend", "backend", "database"])
def test_metrics_port_must_differ_from_every_serving_port(tier: str) -> None:
    assert problems_of_app(metricsPort=9000, **{tier: {"port": 9000}}) == [
        f"{APP0}.metricsPort: 9000 is also {tier}.port; monitoring may reach the metrics port only, so it must "
        "differ from every serving port"
    ]


def test_metrics_port_colliding_with_two_tiers_is_reported_for_each() -> None:
    assert len(problems_of_app(metricsPort=8080)) == 2  # frontend and backend both default to 8080


def test_internet_egress_needs_the_proxy() -> None:
    raw = values(tenant("acme", app(backend={"internetEgress": True})), egressProxy={"enabled": False})
    assert problems(raw) == [
        f"{APP0}.backend.internetEgress: needs tenancy:cluster.egressProxy.enabled: true (egress goes only via the proxy)"]
    ok(values(tenant("acme", app(backend={"internetEgress": False})), egressProxy={"enabled": False}))
    ok(values(tenant("acme", app(backend={"internetEgress": True}))))


def consumer(tenant_name: str, app_name: str, tier: str | None = None) -> dict:
    return {"tenant": tenant_name, "app": app_name, **({"tier": tier} if tier else {})}


def test_valid_consumers_within_and_across_tenants() -> None:
    shop = app("shop", consumers=[consumer("globex", "portal"), consumer("globex", "portal", "frontend"),
                                  consumer("acme", "blog")])
    parsed = ok(values(tenant("acme", shop, app("blog"), quota={"cpu": "8"}), tenant("globex", app("portal"))))
    consumers = parsed.config.tenants[0].apps[0].consumers
    assert [(c.tenant, c.app, c.tier) for c in consumers] == [
        ("globex", "portal", "backend"), ("globex", "portal", "frontend"), ("acme", "blog", "backend")]


def test_consumer_of_itself() -> None:
    assert problems_of_app(consumers=[consumer("acme", "shop", "frontend")]) == [
        f"{APP0}.consumers[0]: an app cannot be a consumer of itself (its frontend already reaches its backend)"]


def test_consumer_naming_a_missing_tenant() -> None:
    raw = values(tenant("acme", app(consumers=[consumer("globx", "portal")])), tenant("globex", app("portal")))
    assert problems(raw) == [f"{APP0}.consumers[0].tenant: no tenant named 'globx' (tenants: acme, globex)"]


def test_consumer_naming_a_missing_app() -> None:
    raw = values(tenant("acme", app(consumers=[consumer("globex", "portl")])), tenant("globex", app("portal")))
    assert problems(raw) == [f"{APP0}.consumers[0].app: tenant 'globex' has no app named 'portl' (apps: portal)"]


def test_consumer_naming_a_tenant_without_apps() -> None:
    raw = values(tenant("acme", app(consumers=[consumer("globex", "portal")])), tenant("globex"))
    assert problems(raw) == [f"{APP0}.consumers[0].app: tenant 'globex' has no app named 'portal' (apps: none)"]


def test_duplicate_consumer_counts_the_default_tier() -> None:
    raw = values(tenant("acme", app(consumers=[consumer("globex", "portal"), consumer("globex", "portal", "backend")])),
                 tenant("globex", app("portal")))
    assert problems(raw) == [f"{APP0}.consumers[1]: duplicate consumer globex/portal (backend)"]


# One app at the defaults needs, in limits x replicas: cpu 2x500m + 2x1 + 1x1 = 4, memory 2x256Mi + 2x512Mi + 1x1Gi
# = 2.5Gi, 5 pods, storage 10Gi. The default quota (4, 8Gi, 30, 20Gi) fits exactly one such app on CPU.

def test_default_app_fits_the_default_quota_exactly() -> None:
    ok(values(tenant("acme", app())))


def test_quota_cpu_exceeded() -> None:
    assert problems(values(tenant("acme", app(frontend={"replicas": 3})))) == [
        f"{T0}.quota.cpu: apps need 4.5 (limits x replicas) but the quota is 4"]


def test_quota_cpu_in_millicores() -> None:
    small = {"resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "64Mi"}}}
    raw = values(tenant("acme", app(frontend={**small, "replicas": 1}, backend={**small, "replicas": 1},
                                    database={**small, "replicas": 1}), quota={"cpu": "500m"}))
    assert problems(raw) == [f"{T0}.quota.cpu: apps need 750m (limits x replicas) but the quota is 500m"]


def test_quota_memory_exceeded() -> None:
    assert problems(values(tenant("acme", app(), quota={"memory": "2Gi"}))) == [
        f"{T0}.quota.memory: apps need 2.5Gi (limits x replicas) but the quota is 2Gi"]


def test_quota_storage_counts_every_database_replica() -> None:
    raw = values(tenant("acme", app(database={"replicas": 3, "storage": "10Gi"}),
                        quota={"cpu": "8", "storage": "20Gi"}))
    assert problems(raw) == [f"{T0}.quota.storage: apps need 30Gi (volume claims x replicas) but the quota is 20Gi"]


def test_quota_pods_exceeded() -> None:
    assert problems(values(tenant("acme", app(), quota={"pods": 4}))) == [
        f"{T0}.quota.pods: apps run 5 pods but the quota is 4"]


def test_quota_pods_must_be_positive() -> None:
    assert problems(values(tenant("acme", quota={"pods": 0}))) == [f"{T0}.quota.pods: must be 1 or more, got 0"]


def test_quota_sums_every_app_of_the_tenant() -> None:
    raw = values(tenant("acme", app("shop"), app("blog")))
    assert problems(raw) == [f"{T0}.quota.cpu: apps need 8 (limits x replicas) but the quota is 4"]


def test_parked_tiers_use_no_quota() -> None:
    parked = {"replicas": 0}
    ok(values(tenant("acme", app("shop"), app("blog", frontend=parked, backend=parked, database=parked))))


def test_requests_above_limits() -> None:
    resources = {"requests": {"cpu": "1500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert problems_of_app(database={"resources": resources}) == [
        f"{APP0}.database.resources.requests.cpu: 1500m exceeds limits.cpu 1"]


def test_requests_equal_to_limits_are_fine() -> None:
    resources = {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"cpu": "0.5", "memory": "256Mi"}}
    ok(values(tenant("acme", app(frontend={"resources": resources}))))


def test_every_cross_field_problem_is_reported_at_once() -> None:
    raw = values(
        tenant("acme", app("shop", metricsPort=5432, consumers=[consumer("initech", "billing")]), owners=["a", "a"]),
        tenant("acme"),
        tenant("kube-system"),
        cni="flannel",
        egressProxy={"clusterCidrs": ["10.0.0.0/8", "10.1.0.0/16"]},
    )
    found = problems(raw)
    assert found == [
        refused("flannel"),
        "tenancy:cluster.egressProxy.clusterCidrs[1]: 10.1.0.0/16 overlaps tenancy:cluster.egressProxy.clusterCidrs[0] "
        "10.0.0.0/8; list each range once",
        "tenancy:tenants[1].name: duplicate tenant 'acme' (first at tenancy:tenants[0])",
        "tenancy:tenants[2].name: 'kube-system' is a namespace Kubernetes reserves; tenants need a namespace of "
        "their own",
        f"{T0}.owners[1]: duplicate owner 'a'",
        f"{APP0}.metricsPort: 5432 is also database.port; monitoring may reach the metrics port only, so it must "
        "differ from every serving port",
        f"{APP0}.consumers[0].tenant: no tenant named 'initech' (tenants: acme, kube-system)",
    ]


def test_config_error_text_is_one_problem_per_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({})
    assert str(caught.value) == "tenancy:cluster: required\ntenancy:tenants: required"


def test_parsed_config_is_immutable() -> None:
    # Components receive the same model; one must not be able to change what another sees.
    config: StackConfig = ok(values()).config
    with pytest.raises(ValidationError, match="frozen"):
        config.cluster.cni = "flannel"  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------ read_stack_file

def write(tmp_path: Path, text: str, name: str = "Pulumi.dev.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read_problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        read_stack_file(path)
    return caught.value.problems


def test_stack_file_keeps_every_namespace_and_marks_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, """\
secretsprovider: passphrase
encryptionsalt: v1:abc
config:
  kubernetes:context: prod-eu-1
  aws:region: eu-west-1
  tenancy:cluster: {cni: calico}
  tenancy:tenants: [{name: acme}]
  tenancy:registryToken:
    secure: v1:Zm9v
""")
    stack = read_stack_file(path)
    assert stack.path == path
    assert set(stack.values) == {"kubernetes:context", "aws:region", "tenancy:cluster", "tenancy:tenants",
                                 "tenancy:registryToken"}
    assert stack.secret_keys == frozenset({"tenancy:registryToken"})
    assert stack.namespace_values() == {"cluster": {"cni": "calico"}, "tenants": [{"name": "acme"}],
                                        "registryToken": {"secure": "v1:Zm9v"}}
    assert stack.namespace_values("kubernetes") == {"context": "prod-eu-1"}


def test_empty_stack_file_has_no_config(tmp_path: Path) -> None:
    assert read_stack_file(write(tmp_path, "")).values == {}
    assert read_stack_file(write(tmp_path, "config:\n", "Pulumi.b.yaml")).values == {}


def test_missing_and_unreadable_stack_files(tmp_path: Path) -> None:
    assert read_problems(tmp_path / "Pulumi.nope.yaml") == [f"{tmp_path / 'Pulumi.nope.yaml'}: no such stack file"]
    assert read_problems(tmp_path) == [f"{tmp_path}: cannot read: Is a directory"]


def test_duplicate_key_deep_in_the_file_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, """\
config:
  tenancy:tenants:
    - name: acme
      apps:
        - name: shop
          frontend: {image: nginx:1.27}
          backend: {image: api:1}
          frontend: {image: nginx:1.28}
""")
    assert read_problems(path) == [
        f"{path}: not valid YAML (line 8, column 11): duplicate key 'frontend' (first at line 6)"]


def test_yaml_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    path = write(tmp_path, """\
config:
  tenancy:cluster: {cni: calico}
  tenancy:tenants:
    - name: acme
      apps:
        - name: shop
          frontend: &web {image: nginx:1.27, replicas: 2}
          backend:
            <<: *web
            image: api:1
""")
    backend = parse_config(read_stack_file(path).namespace_values()).config.tenants[0].apps[0].backend
    assert (backend.image, backend.replicas) == ("api:1", 2)


@pytest.mark.parametrize("namespace", ["kubernetes", "aws", "pulumi", "tenants", "tenancy-dev"])
def test_other_namespaces_are_not_mistaken_for_typos(tmp_path: Path, namespace: str) -> None:
    path = write(tmp_path, f"config:\n  {namespace}:thing: 1\n")
    assert read_stack_file(path).values == {f"{namespace}:thing": 1}


def test_namespace_typo_is_caught(tmp_path: Path) -> None:
    path = write(tmp_path, "config:\n  tenancyy:tenants: []\n  tennacy:cluster: {}\n")
    assert read_problems(path) == [
        f"{path}: config key 'tenancyy:tenants' has namespace 'tenancyy'; did you mean 'tenancy:tenants'?",
        f"{path}: config key 'tennacy:cluster' has namespace 'tennacy'; did you mean 'tenancy:cluster'?",
    ]


@pytest.mark.parametrize(("text", "problem"), [
    ("config: [tenancy:cluster]\n", "config: must be a mapping of keys to values"),
    ("config: []\n", "config: must be a mapping of keys to values"),
    ("just text\n", "must be a mapping with a 'config' key, got str"),
    ("config: {tenancy:cluster: {cni: calico}\n",
     "not valid YAML (line 2, column 1): expected ',' or '}', but got '<stream end>' (while parsing a flow mapping "
     "at line 1, column 9)"),
    ("config:\n\ttenancy:cluster: {}\n",
     "not valid YAML (line 2, column 1): found character '\\t' that cannot start any token"),
])
def test_malformed_stack_files(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    assert read_problems(path)[0] == f"{path}: {problem}"


def test_top_level_keys_of_different_types_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "2: a\nconfg: b\nconfig: {}\n")
    assert read_problems(path) == [
        f"{path}: unknown top-level key '2'; known keys: config, encryptedkey, encryptionsalt, environment, "
        "secretsprovider",
        f"{path}: unknown top-level key 'confg'; did you mean 'config'?",
    ]


def test_keys_python_would_merge_are_duplicates(tmp_path: Path) -> None:
    path = write(tmp_path, "1: a\ntrue: b\n")
    assert read_problems(path) == [f"{path}: not valid YAML (line 2, column 1): duplicate key True (first at line 1)"]


def test_non_utf8_stack_file(tmp_path: Path) -> None:
    text = "config:\n  tenancy:tenants: [{name: caf\u00e9}]\n"
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_bytes(text.encode("latin-1"))
    assert read_problems(path) == [f"{path}: not UTF-8 text (byte {text.index(chr(0xe9))})"]
