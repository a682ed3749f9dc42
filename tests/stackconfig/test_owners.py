"""Tenant owners: the `system:` groups that mean everyone are refused (tests/bad_configs/56-owners-everyone), other
`system:` names are warned about, ordinary groups pass silently."""

from __future__ import annotations

import pytest

from stackconfig import ConfigError, parse_config


def _config(owners: list[str]) -> dict:
    return {"cluster": {"cni": "calico"}, "tenants": [{"name": "acme", "owners": owners}]}


@pytest.mark.parametrize("group", ["system:authenticated", "system:unauthenticated", "system:serviceaccounts"])
def test_groups_meaning_everyone_are_refused(group):
    with pytest.raises(ConfigError) as exc:
        parse_config(_config(["acme-admins", group]))
    [problem] = exc.value.problems
    assert problem.startswith(f"tenancy:tenants[0].owners[1]: '{group}' is the group of ")
    assert "admins of namespace 'acme'" in problem


@pytest.mark.parametrize("name", ["system:masters", "system:serviceaccounts:kube-system", "system:nodes"])
def test_other_system_names_are_warned_about(name):
    parsed = parse_config(_config([name]))
    [warning] = parsed.warnings
    assert warning.startswith(f"tenancy:tenants[0].owners[0]: '{name}' is a Kubernetes system name")


def test_ordinary_groups_pass_without_warning():
    assert parse_config(_config(["acme-admins", "oidc:acme-platform"])).warnings == []


def test_render_refuses_an_everyone_owner(tmp_path, capsys):
    from tenancy.cli import main

    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  tenancy:cluster: {cni: calico}\n  tenancy:tenants:\n    - {name: acme, owners: [system:authenticated]}\n")
    out = tmp_path / "out"
    assert main(["render", "--stack", "t", "--config-dir", str(tmp_path), "--out", str(out)]) == 2
    assert "system:authenticated" in capsys.readouterr().err
    assert not out.exists()
