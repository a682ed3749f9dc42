"""The offline render: exactly what the program registers, written atomically, refusing bad config with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from stackconfig import read_stack_file
from tenancy.cli import main as cli
from tenancy.recording import clean
from tests.paths import REPO_ROOT


def _read_render(out: Path) -> dict[tuple, dict]:
    objects = {}
    for path in sorted(out.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            meta = doc["metadata"]
            objects[(doc["kind"], meta.get("namespace"), meta["name"])] = doc
    return objects


class _Capture(pulumi.runtime.Mocks):
    """Deliberately independent of tenancy.recording: just keep what the engine would be sent."""

    def __init__(self):
        self.objects: dict[tuple, dict] = {}

    def new_resource(self, args):
        if args.typ.startswith("kubernetes:"):
            inputs = clean(args.inputs)
            meta = inputs["metadata"]
            self.objects[(inputs["kind"], meta.get("namespace"), meta["name"])] = inputs
        return f"{args.name}-id", args.inputs

    def call(self, args):
        return {}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_render_writes_exactly_what_the_program_registers(stack, tmp_path):
    out = tmp_path / stack
    assert cli(["render", "--stack", stack, "--out", str(out)]) == 0

    import program

    capture = _Capture()
    pulumi.runtime.set_mocks(capture, project="tenancy", stack=stack, preview=False)
    values = read_stack_file(REPO_ROOT / f"Pulumi.{stack}.yaml").values
    pulumi.runtime.set_all_config({k: json.dumps(v) for k, v in values.items()})
    _sync_await(run_pulumi_func(program.main))

    written = _read_render(out)
    assert capture.objects, "the program registered nothing"
    assert sorted(written) == sorted(capture.objects)
    for key, registered in capture.objects.items():
        assert written[key] == registered, key


def test_render_has_one_file_per_namespace_and_a_cluster_file(dev, tmp_path):
    out = tmp_path / "dev"
    assert cli(["render", "--stack", "dev", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    namespaces = sorted({t.name for t in dev.parsed.config.tenants} | {"egress-proxy"})
    # plus the marker that lets the next render replace this directory (and nothing else)
    assert names == sorted([".tenancy-render", "_cluster.yaml", *(f"{n}.yaml" for n in namespaces)])
    for path in out.glob("*.yaml"):
        docs = list(yaml.safe_load_all(path.read_text()))
        if path.name == "_cluster.yaml":
            assert all(doc["kind"] != "Namespace" and not doc["metadata"].get("namespace") for doc in docs)
            continue
        # Each namespace's file creates the namespace first, so `kubectl apply -f DIR` works in any file order.
        assert docs[0]["kind"] == "Namespace" and docs[0]["metadata"]["name"] == path.stem
        for doc in docs[1:]:
            assert doc["metadata"].get("namespace") == path.stem, (path.name, doc["metadata"])


def test_render_is_deterministic(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert cli(["render", "--stack", "dev", "--out", str(first)]) == 0
    assert cli(["render", "--stack", "dev", "--out", str(second)]) == 0
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_render_replaces_the_output_directory_atomically(tmp_path):
    out = tmp_path / "dev"
    assert cli(["render", "--stack", "dev", "--out", str(out)]) == 0
    (out / "stale-tenant.yaml").write_text("kind: leftover\n")  # a tenant removed since the last render
    assert cli(["render", "--stack", "dev", "--out", str(out)]) == 0
    assert not (out / "stale-tenant.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"], "temporary directories left behind"


def _stack_dir(tmp_path: Path, text: str, stack: str = "t") -> Path:
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    return tmp_path


GOOD = """
config:
  tenancy:cluster: {cni: calico}
  tenancy:tenants:
    - name: acme
      apps:
        - name: shop
          frontend: {image: nginx:1.27}
          backend: {image: shop:1}
"""


def test_bad_config_exits_2_names_paths_and_writes_nothing(tmp_path, capsys):
    config_dir = _stack_dir(tmp_path, GOOD.replace("cni: calico", "cni: flannel").replace("backend: {image: shop:1}", "backend: {image: shop:1, prot: 8080}"))
    out = tmp_path / "out"
    code = cli(["render", "--stack", "t", "--config-dir", str(config_dir), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert not out.exists()
    assert "tenancy:tenants[0].apps[0].backend.prot: unknown key; did you mean 'port'?" in err
    assert "Traceback" not in err


def test_bad_config_leaves_an_earlier_render_untouched(tmp_path):
    out = tmp_path / "out"
    assert cli(["render", "--stack", "t", "--config-dir", str(_stack_dir(tmp_path, GOOD)), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = _stack_dir(tmp_path, GOOD.replace("name: shop", "name: Shop"))
    assert cli(["render", "--stack", "t", "--config-dir", str(bad), "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_non_enforcing_cni_is_refused_with_the_reason(tmp_path, capsys):
    config_dir = _stack_dir(tmp_path, GOOD.replace("cni: calico", "cni: flannel"))
    assert cli(["render", "--stack", "t", "--config-dir", str(config_dir), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "tenancy:cluster.cni: CNI 'flannel' does not enforce NetworkPolicy" in err
    assert "allowUnenforcedPolicies" in err


def test_acknowledged_non_enforcing_cni_renders_with_a_warning(tmp_path, capsys):
    text = GOOD.replace("cni: calico", "cni: flannel, allowUnenforcedPolicies: true")
    config_dir = _stack_dir(tmp_path, text)
    assert cli(["render", "--stack", "t", "--config-dir", str(config_dir), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "NOT isolated" in err


def test_unknown_cni_renders_with_a_warning(tmp_path, capsys):
    config_dir = _stack_dir(tmp_path, GOOD.replace("cni: calico", "cni: acme-cni"))
    assert cli(["render", "--stack", "t", "--config-dir", str(config_dir), "--out", str(tmp_path / "o")]) == 0
    assert "CNI 'acme-cni' is not known" in capsys.readouterr().err


CIPHERTEXT = "v1:q3Jt0mT1yQ==:AAABBBCCCDDDsecretciphertext"


def test_secure_values_never_appear_in_the_render(tmp_path):
    text = GOOD + f"  kubernetes:kubeconfig:\n    secure: {CIPHERTEXT}\n"
    out = tmp_path / "o"
    assert cli(["render", "--stack", "t", "--config-dir", str(_stack_dir(tmp_path, text)), "--out", str(out)]) == 0
    assert not any(CIPHERTEXT in p.read_text() for p in out.iterdir())


def test_secure_tenancy_config_is_refused(tmp_path, capsys):
    text = GOOD.replace("  tenancy:cluster: {cni: calico}", f"  tenancy:cluster:\n    secure: {CIPHERTEXT}")
    assert cli(["render", "--stack", "t", "--config-dir", str(_stack_dir(tmp_path, text)), "--out", str(tmp_path / "o")]) == 2
    assert "tenancy:cluster: is a secure value" in capsys.readouterr().err


def test_render_cli_end_to_end_in_a_fresh_process(tmp_path):
    """What a user types: exit code, summary on stdout, and no traceback for a missing stack."""
    ok = subprocess.run([sys.executable, "-m", "tenancy", "render", "--stack", "dev", "--out", str(tmp_path / "dev")],
                        cwd=REPO_ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "acme.yaml" in ok.stdout and "NetworkPolicy" in ok.stdout
    missing = subprocess.run([sys.executable, "-m", "tenancy", "render", "--stack", "nope", "--out", str(tmp_path / "n")],
                             cwd=REPO_ROOT, capture_output=True, text=True)
    assert missing.returncode == 2
    assert "Pulumi.nope.yaml: no such stack file" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert not (tmp_path / "n").exists()


def test_pure_plan_equals_what_the_program_registers(any_stack):
    """Property tests and `check --stack` use specs.plan without Pulumi: it must be the program's exact output."""
    from specs.plan import stack_objects

    def key(m):
        return (m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"])

    registered = {key(m): m for m in any_stack.manifests()}
    planned = {key(m): m for m in stack_objects(any_stack.parsed.config)}
    assert sorted(planned) == sorted(registered)
    for k, manifest in planned.items():
        assert clean(json.loads(json.dumps(manifest))) == registered[k], k
