"""stackconfig/types.py: the constrained scalars of the stack config (ports, counts, names, CIDRs, quantities,
images, labels, paths), what each accepts and how each refuses."""

from __future__ import annotations

import ipaddress

from typing import Any

import pytest

from tests.stackconfig.helpers import APP0, T0, Pinned, app, lb, ok, problems, problems_of_app, tenant, values


def test_numbers_written_as_quoted_digits_are_accepted() -> None:
    # `pulumi config set --path ...frontend.port 8081` stores the string "8081".
    shop = ok(values(tenant("acme", app(frontend={"port": "8081", "replicas": "1"})))).config.tenants[0].apps[0]
    assert (shop.frontend.port, shop.frontend.replicas) == (8081, 1)


def test_yaml_numbers_are_accepted_as_quantities() -> None:
    quota = ok(values(tenant("acme", quota={"cpu": 8, "memory": "16Gi"}))).config.tenants[0].quota
    assert quota.cpu == "8"


# ------------------------------------------------------------------------------------------------------ numbers

@pytest.mark.parametrize(("port", "expected"), [(1, 1), (65535, 65535), ("443", 443)])
def test_valid_ports(port: Any, expected: int) -> None:
    assert ok(values(tenant("acme", app(backend={"port": port})))).config.tenants[0].apps[0].backend.port == expected


# Wording pinned by tests/bad_configs/25-port-zero, 26-port-too-high (range) and 08-bool-for-port (not a number).
@pytest.mark.parametrize("port", [0, 65536, 70000, -1, True, False, "http", 8080.0, None, [8080]])
def test_invalid_ports(port: Any) -> None:
    assert problems_of_app(backend={"port": port}) == [Pinned(f"{APP0}.backend.port", repr(port))]


def test_every_port_field_is_checked() -> None:
    assert problems(values(tenant("acme", app(metricsPort=0)), dns={"port": 0}, egressProxy={"port": 99999})) == [
        Pinned("tenancy:cluster.dns.port", "0"),
        Pinned("tenancy:cluster.egressProxy.port", "99999"),
        Pinned(f"{APP0}.metricsPort", "0"),
    ]


# Wording pinned by tests/bad_configs/27-negative-replicas and 06-string-for-int.
@pytest.mark.parametrize("replicas", [-1, "two", 1.5, True])
def test_invalid_replicas(replicas: Any) -> None:
    assert problems_of_app(frontend={"replicas": replicas}) == [Pinned(f"{APP0}.frontend.replicas", repr(replicas))]


def test_zero_replicas_is_allowed_to_park_a_tier() -> None:
    assert ok(values(tenant("acme", app(frontend={"replicas": 0})))).config.tenants[0].apps[0].frontend.replicas == 0


def test_run_as_user_zero_would_be_root() -> None:
    assert problems_of_app(backend={"runAsUser": 0}) == [f"{APP0}.backend.runAsUser: must be 1 or more, got 0"]


def test_quota_pods_must_be_positive() -> None:
    assert problems(values(tenant("acme", quota={"pods": 0}))) == [f"{T0}.quota.pods: must be 1 or more, got 0"]


# -------------------------------------------------------------------------------------------------------- names

@pytest.mark.parametrize("name", ["a", "acme", "acme-2", "2acme", "a" * 63])
def test_valid_tenant_names(name: str) -> None:
    assert ok(values(tenant(name))).config.tenants[0].name == name


# Wording pinned by tests/bad_configs/18-invalid-dns-name.
@pytest.mark.parametrize("name", ["Acme", "acme_corp", "-acme", "acme-", "acme.corp", ""])
def test_invalid_tenant_names(name: str) -> None:
    assert problems(values(tenant(name))) == [Pinned(f"{T0}.name", repr(name))]


@pytest.mark.parametrize(("name", "why"), [
    ("a" * 64, f"'{'a' * 64}' is 64 characters; a Kubernetes name label allows at most 63"),
    (7, "must be a name (a string), got 7"),
    (None, "must be a name (a string), got None"),
])
def test_tenant_names_too_long_or_not_strings(name: Any, why: str) -> None:
    assert problems(values(tenant(name))) == [f"{T0}.name: {why}"]


def test_app_names_must_start_with_a_letter_because_they_name_services() -> None:
    # Wording pinned by tests/bad_configs/19-app-name-starts-with-digit.
    assert problems_of_app(name="2shop") == [Pinned(f"{APP0}.name", "'2shop'")]


def test_app_names_follow_the_dns_label_rules_too() -> None:
    # The same refusal, word for word, as a tenant named so (tests/bad_configs/18-invalid-dns-name pins it).
    [as_tenant] = problems(values(tenant("Shop")))
    [as_app] = problems_of_app(name="Shop")
    assert as_app.split(": ", 1) == [f"{APP0}.name", as_tenant.split(": ", 1)[1]]


# -------------------------------------------------------------------------------------------------------- CIDRs

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
    (network,) = shop.frontend.load_balancer.source_ranges
    assert network == ipaddress.ip_network(stored) and str(network) == stored


# Wording pinned by tests/bad_configs/09-cidr-no-prefix, 10-cidr-host-bits, 50-cidr-ipv6-host-bits (each naming the
# network to write instead) and 11-cidr-garbage, 12-cidr-ipv6-garbage.
@pytest.mark.parametrize(("cidr", "named"), [
    ("203.0.113.7", "203.0.113.7/32"),
    ("2001:db8::1", "2001:db8::1/128"),
    ("203.0.113.7/24", "203.0.113.0/24"),
    ("2001:db8::1/32", "2001:db8::/32"),
    ("office", "'office'"),
    ("10.0.0.0/33", "'10.0.0.0/33'"),
    ("300.0.0.0/8", "'300.0.0.0/8'"),
    ("2001:db8::g/64", "'2001:db8::g/64'"),
    ("2001:db8:::/64", "'2001:db8:::/64'"),
    ("2001:db8::/129", "'2001:db8::/129'"),
    ("", "''"),
])
def test_invalid_cidrs(cidr: str, named: str) -> None:
    assert problems_of_app(frontend=lb(cidr)) == [Pinned(f"{APP0}.frontend.loadBalancer.sourceRanges[0]", named)]


def test_a_cidr_must_be_a_string() -> None:
    assert problems_of_app(frontend=lb(10)) == [
        f"{APP0}.frontend.loadBalancer.sourceRanges[0]: must be a CIDR (a string), got 10"]


def test_cluster_cidrs_are_checked_like_any_cidr() -> None:
    assert problems(values(egressProxy={"clusterCidrs": ["10.0.0.0/8", "10.96.0.1/12"]})) == [
        Pinned("tenancy:cluster.egressProxy.clusterCidrs[1]", "'10.96.0.1/12'", "10.96.0.0/12")]


# ---------------------------------------------------------------------------------------------------- quantities

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


# ------------------------------------------------------------------------------------------- images, labels, paths

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


def test_empty_pod_labels_would_select_every_pod() -> None:
    # Wording pinned by tests/bad_configs/44-empty-pod-labels.
    assert problems(values(dns={"podLabels": {}})) == [Pinned("tenancy:cluster.dns.podLabels")]


@pytest.mark.parametrize(("labels", "why"), [
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
