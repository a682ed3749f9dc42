"""Config leniency and strictness from the field (issue 10): valid configs that were refused, nonsense that was
accepted, hostile stack files, stack names, and config as Pulumi reads it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackconfig import ConfigError, parse_config, read_stack_file
from stackconfig.load import stack_path

T0 = "tenancy:tenants[0]"
APP0 = f"{T0}.apps[0]"


def app(frontend: dict | None = None, backend: dict | None = None, **fields: Any) -> dict:
    return {"name": "shop", "frontend": {"image": "nginx:1.27", **(frontend or {})},
            "backend": {"image": "ghcr.io/acme/shop-api:1.4.2", **(backend or {})}, **fields}


def values(*apps: dict, cluster: dict | None = None, **tenant: Any) -> dict:
    """A one-tenant config (`tenant` fields such as quota go to the tenant)."""
    return {"cluster": {"cni": "calico", **(cluster or {})},
            "tenants": [{"name": "acme", "apps": list(apps) or [app()], **tenant}]}


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.problems


# ------------------------------------------------------------------------------------------ refused but valid

@pytest.mark.parametrize("resources, effective_cpu", [
    ({"limits": {"cpu": "2", "memory": "1Gi"}}, ("2", "2")),  # requests default to the limits
    ({"requests": {"cpu": "200m"}}, ("200m", "500m")),  # limits from the namespace's LimitRange
    ({"limits": {"cpu": "300m"}}, ("300m", "300m")),  # memory entirely from the LimitRange
    ({}, ("100m", "500m")),
])
def test_partial_resources_are_valid_and_kubernetes_defaults_the_rest(resources, effective_cpu):
    config = parse_config(values(app(backend={"resources": resources}), quota={"cpu": "16", "memory": "16Gi"})).config
    backend = config.tenants[0].apps[0].backend
    assert backend.resources.effective("cpu") == effective_cpu
    assert backend.resources.manifest() == {k: v for k, v in resources.items() if v}


def test_a_request_above_the_default_limit_is_refused_with_the_reason():
    assert problems(values(app(backend={"resources": {"requests": {"cpu": "2"}}}))) == [
        f"{APP0}.backend.resources.requests.cpu: 2 exceeds the namespace's default limit 500m (no limits.cpu "
        "given, so the LimitRange's default applies and the API server would refuse the pod)"]


def test_dotted_names_for_storage_class_and_password_secret():
    config = parse_config(values(app(database={"storageClass": "fast.ssd.example.com",
                                               "passwordSecret": "shop.db-credentials"}))).config
    assert config.tenants[0].apps[0].database.storage_class == "fast.ssd.example.com"
    assert config.tenants[0].apps[0].database.password_secret == "shop.db-credentials"


@pytest.mark.parametrize("written", ["1e3", "2E3", "1.5e3", "1e+3", 1e3])
def test_quantities_with_exponents_are_kubernetes_quantities(written):
    raw = values()
    raw["tenants"][0]["quota"] = {"cpu": written}
    parse_config(raw)


def test_an_exponent_takes_no_suffix():
    raw = values()
    raw["tenants"][0]["quota"] = {"cpu": "1e3m"}
    assert problems(raw) == [f"{T0}.quota.cpu: '1e3m' is not a Kubernetes quantity (e.g. '500m', '2', '8Gi')"]


# ---------------------------------------------------------------------------------------- accepted but nonsense

def test_memory_in_millibytes_is_refused():
    raw = values()
    raw["tenants"][0]["quota"] = {"memory": "128m"}
    assert problems(raw) == [f"{T0}.quota.memory: '128m' means 128 thousandths of a byte ('m' is milli); write "
                             "'128Mi' (mebibytes) or '128M' (megabytes)"]


@pytest.mark.parametrize("image, why", [
    ("Nginx:Latest", ": repository names are lower case"),
    ("nginx:", ""),
    ("ghcr.io/Acme/api:1", ": repository names are lower case"),
    ("nginx@sha256:abc", ""),
])
def test_invalid_image_references(image, why):
    assert problems(values(app(frontend={"image": image}))) == [
        f"{APP0}.frontend.image: '{image}' is not a container image reference{why} (e.g. 'nginx:1.27')"]


@pytest.mark.parametrize("image", ["nginx", "nginx:1.27", "localhost:5000/team/app:v1.2_3", "Registry.Example.com/a/b",
                                   f"postgres@sha256:{'a' * 64}", "ubuntu/squid:6.10-24.10_beta"])
def test_valid_image_references(image):
    parse_config(values(app(frontend={"image": image})))


@pytest.mark.parametrize("path, why", [
    ("/", "'/' would mount an empty directory over the whole root filesystem; name the directories the program "
          "writes to"),
    ("/tmp/../etc", "'/tmp/../etc' must not contain '.' or '..' (write the directory it means)"),
])
def test_writable_paths_root_or_dot_dot_are_refused(path, why):
    assert problems(values(app(frontend={"writablePaths": [path]}))) == [f"{APP0}.frontend.writablePaths[0]: {why}"]


def test_load_balancer_warnings():
    def warnings(ranges: list[str]) -> list[str]:
        parsed = parse_config(values(app(frontend={"loadBalancer": {"sourceRanges": ranges}})))
        return [w for w in parsed.warnings if "loadBalancer" in w]

    assert warnings(["0.0.0.0/0"]) == [
        f"{APP0}.frontend.loadBalancer.sourceRanges[0]: 0.0.0.0/0 admits the whole internet to acme/shop-frontend; "
        "list the client ranges instead, unless a public service is meant"]
    assert warnings(["203.0.113.0/24", "10.1.0.0/16"]) == [
        f"{APP0}.frontend.loadBalancer.sourceRanges[1]: 10.1.0.0/16 lies inside the cluster range 10.0.0.0/8 "
        "(tenancy:cluster.egressProxy.clusterCidrs): traffic from there is pods' or nodes' own, which ipBlock peers "
        "are not meant to match (CNIs differ); load-balancer clients come from outside the cluster"]
    assert warnings(["203.0.113.0/24"]) == []


def test_a_proxy_with_no_replicas_while_backends_want_the_internet_is_a_warning():
    parsed = parse_config(values(app(backend={"internetEgress": True}), cluster={"egressProxy": {"replicas": 0}}))
    assert [w for w in parsed.warnings if "egressProxy" in w] == [
        "tenancy:cluster.egressProxy.replicas: 0 runs no proxy, yet acme/shop declare internetEgress: their backends "
        "reach nothing outside the cluster until the proxy runs again"]


def test_pydantic_does_not_leak_into_messages():
    msgs = problems(values(app(frontend={"env": {1: "x"}})))
    assert msgs == [f"{APP0}.frontend.env: key 1: must be a string, got 1"]
    msgs = problems(values(app(frontend={"port": "²"})))
    assert msgs == [f"{APP0}.frontend.port: must be a port number, got '²'"]


# --------------------------------------------------------------------------------------------- stack files

def stack(tmp_path: Path, text: str, name: str = "dev") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text)
    return path


def bomb(indent: str) -> str:
    lines = [f'{indent}a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{indent}a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_under_an_unrelated_key_is_refused_in_one_line(tmp_path):
    text = ("config:\n  tenancy:cluster: {cni: calico}\n  tenancy:tenants: [{name: acme}]\n  other:bomb:\n"
            + bomb("    "))
    path = stack(tmp_path, text)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        read_stack_file(path)
    assert time.perf_counter() - start < 1
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}: refused: excessive aliasing (its aliases expand it to ")
    assert problem.endswith("(line 8, column 24)")


def test_deep_nesting_in_a_stack_file_is_refused(tmp_path):
    path = stack(tmp_path, "config:\n  other:x: " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(ConfigError) as caught:
        read_stack_file(path)
    assert caught.value.problems == [f"{path}: refused: nested more than 100 levels deep"]


def test_json_strings_are_read_as_pulumi_reads_them(tmp_path):
    tenants = json.dumps([{"name": "acme", "apps": [app()]}])
    path = stack(tmp_path, yaml.safe_dump({"config": {"tenancy:cluster": '{"cni": "calico"}',
                                                      "tenancy:tenants": tenants}}))
    config = parse_config(read_stack_file(path).tenancy_values()).config
    assert config.tenants[0].apps[0].name == "shop"


def test_nested_secure_values_are_named_exactly(tmp_path):
    path = stack(tmp_path, "config:\n  tenancy:cluster:\n    cni: calico\n    egressProxy:\n"
                           "      image: {secure: AAABAG}\n  tenancy:tenants: [{name: acme}]\n")
    with pytest.raises(ConfigError) as caught:
        read_stack_file(path).tenancy_values()
    assert caught.value.problems == [
        "tenancy:cluster.egressProxy.image: is a secure value; the offline render cannot decrypt it (keep tenancy "
        "config in plain text, secrets belong in Kubernetes Secrets)"]


def test_an_esc_environment_supplying_the_config_is_named(tmp_path):
    path = stack(tmp_path, "environment:\n  - acme/dev\nconfig:\n  tenancy:tenants: [{name: acme}]\n")
    with pytest.raises(ConfigError) as caught:
        read_stack_file(path).tenancy_values()
    assert caught.value.problems == [
        "Pulumi.dev.yaml: environment: imports Pulumi ESC environment acme/dev, which the offline render cannot "
        "open, and tenancy:cluster is not in the stack file itself; set it there (plain `pulumi config set` writes "
        "them into the file) to render offline"]


@pytest.mark.parametrize("name", ["../x/Pulumi.dev", "a/b", "", "..", "dev\n"])
def test_stack_names_are_validated(name, tmp_path):
    with pytest.raises(ConfigError) as caught:
        stack_path(name, tmp_path)
    assert caught.value.problems[0].startswith(f"invalid stack name {name!r}")


def test_valid_stack_names(tmp_path):
    assert stack_path("prod-eu.1_a", tmp_path) == tmp_path / "Pulumi.prod-eu.1_a.yaml"
