"""stackconfig/load.py: reading a `Pulumi.<stack>.yaml` (read_stack_file) and the `tenancy:*` keys parse_config
accepts. Problems found while reading start with the file's path; where the corpus (tests/bad_configs) pins their
wording they are `Pinned` here, so the line must name that path and what the problem is about."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackconfig import ConfigError, parse_config, read_stack_file
from tests.stackconfig.helpers import Pinned, problems, values

# ------------------------------------------------------------------------------------------ tenancy:* config keys


def test_unknown_tenancy_config_keys() -> None:
    # With a close match the wording is pinned by tests/bad_configs/42-unknown-tenancy-key.
    raw = {**values(), "tenant": [], "network": {}}
    assert problems(raw) == [
        Pinned("tenancy:tenant", "'tenancy:tenants'"),
        "tenancy:network: unknown config key; known keys: tenancy:cluster, tenancy:tenants",
    ]


def test_unknown_tenancy_key_is_reported_alongside_model_problems() -> None:
    # Worded by tests/bad_configs/42-unknown-tenancy-key and 29-missing-tenants.
    assert problems({"tenant": [], "cluster": {"cni": "calico"}}) == [
        Pinned("tenancy:tenant", "'tenancy:tenants'"),
        Pinned("tenancy:tenants"),
    ]


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
    # Wording pinned by tests/bad_configs/45-duplicate-yaml-key.
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
    assert read_problems(path) == [Pinned(str(path), "(line 8, column 11)", "'frontend'", "line 6")]


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
    # Wording pinned by tests/bad_configs/46-misspelt-namespace.
    path = write(tmp_path, "config:\n  tenancyy:tenants: []\n  tennacy:cluster: {}\n")
    assert read_problems(path) == [
        Pinned(str(path), "'tenancyy:tenants'", "'tenancyy'", "'tenancy:tenants'"),
        Pinned(str(path), "'tennacy:cluster'", "'tennacy'", "'tenancy:cluster'"),
    ]


# A tuple: the wording is pinned by the corpus (40-malformed-yaml for bad YAML, 41-top-level-not-mapping), so only
# what the line must name is given; a string is the exact problem after the file's path.
@pytest.mark.parametrize(("text", "problem"), [
    ("config: [tenancy:cluster]\n", "config: must be a mapping of keys to values"),
    ("config: []\n", "config: must be a mapping of keys to values"),
    ("just text\n", ("str",)),
    ("config: {tenancy:cluster: {cni: calico}\n",
     ("(line 2, column 1)", "expected ',' or '}', but got '<stream end>' (while parsing a flow mapping at line 1, "
      "column 9)")),
    ("config:\n\ttenancy:cluster: {}\n",
     ("(line 2, column 1)", "found character '\\t' that cannot start any token")),
])
def test_malformed_stack_files(tmp_path: Path, text: str, problem: str | tuple[str, ...]) -> None:
    path = write(tmp_path, text)
    expected = f"{path}: {problem}" if isinstance(problem, str) else Pinned(str(path), *problem)
    assert read_problems(path)[0] == expected


def test_top_level_keys_of_different_types_are_all_reported(tmp_path: Path) -> None:
    # With a close match the wording is pinned by tests/bad_configs/49-typo-config-top-level.
    path = write(tmp_path, "2: a\nconfg: b\nconfig: {}\n")
    assert read_problems(path) == [
        f"{path}: unknown top-level key '2'; known keys: config, encryptedkey, encryptionsalt, environment, "
        "secretsprovider",
        Pinned(str(path), "'confg'", "'config'"),
    ]


def test_keys_python_would_merge_are_duplicates(tmp_path: Path) -> None:
    # Wording pinned by tests/bad_configs/45-duplicate-yaml-key.
    path = write(tmp_path, "1: a\ntrue: b\n")
    assert read_problems(path) == [Pinned(str(path), "(line 2, column 1)", "True", "line 1")]


def test_non_utf8_stack_file(tmp_path: Path) -> None:
    # Wording pinned by tests/bad_configs/52-not-utf8.
    text = "config:\n  tenancy:tenants: [{name: caf\u00e9}]\n"
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_bytes(text.encode("latin-1"))
    assert read_problems(path) == [Pinned(str(path), f"byte {text.index(chr(0xe9))}")]
