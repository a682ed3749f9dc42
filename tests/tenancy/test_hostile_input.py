"""Hostile and degenerate input to the engine's commands (issue 10): alias bombs and deep nesting refused with one
line, duplicate keys refused, duplicate objects and unmodelled policy kinds warned about, nothing read is exit 2."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.reachability import ManifestError, load_paths
from kube import yamllimits
from tenancy.cli import main

ROOT = Path(__file__).resolve().parents[2]


def alias_bomb(levels: int = 9, indent: str = "") -> str:
    """About 1 KB that stands for 9**levels values."""
    lines = [f'{indent}a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{indent}a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def bomb_manifest() -> str:
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: a}\ndata:\n" + alias_bomb(indent="  ")


NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"


def run_limited(args: list[str], stdin: str = "", memory_mb: int = 200) -> tuple[subprocess.CompletedProcess, float]:
    """`python -m tenancy ARGS` with its address space capped, and its wall time."""
    def cap() -> None:
        limit = memory_mb * 2**20 + 400 * 2**20  # the interpreter and its libraries map ~400 MB of address space
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tenancy", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, preexec_fn=cap, timeout=60)
    return done, time.perf_counter() - start


def test_the_bomb_is_small_and_would_be_huge():
    text = bomb_manifest()
    assert len(text.encode()) < 1100
    with pytest.raises(yamllimits.Refused, match="excessive aliasing"):
        yamllimits.check_text(text)


@pytest.mark.parametrize("command", [["check", "-"], ["matrix", "-"], ["graph", "-"]])
def test_a_manifest_alias_bomb_is_refused_in_one_line_quickly_and_small(command):
    done, seconds = run_limited(command, NAMESPACE + "---\n" + bomb_manifest())
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert re.fullmatch(r"error: <stdin> doc 2: refused: excessive aliasing \(its aliases expand it to [0-9,]+ "
                        r"values; the Go YAML library and kubectl refuse such documents too\) "
                        r"\(line \d+, column \d+\)", lines[0]), lines[0]
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert seconds < 10  # the refusal itself takes milliseconds; the rest is interpreter start on a busy machine


def test_a_bomb_in_a_json_file_cannot_exist_but_depth_is_refused(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": '
                    + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(ManifestError) as exc:
        load_paths([str(deep)])
    assert exc.value.problems == [f"{deep} doc 1: refused: nested more than 100 levels deep"]


def test_deep_yaml_is_refused_with_its_line(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n"
                    + "".join("  " * i + f"k{i}:\n" for i in range(1, 150)) + "  " * 150 + "v: 1\n")
    with pytest.raises(ManifestError) as exc:
        load_paths([str(deep)])
    (problem,) = exc.value.problems
    assert problem.startswith(f"{deep} doc 1: refused: nested more than 100 levels deep (line ")


def test_aliases_of_ordinary_size_still_load(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("apiVersion: v1\nkind: Namespace\nmetadata: &m {name: a, labels: {x: y}}\n---\n"
                 "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\n"
                 "spec: {template: {metadata: {labels: &l {app: d}}, spec: {containers: [{name: c}]}}}\n")
    cluster = load_paths([str(f)])
    assert [w.name for w in cluster.workloads] == ["d"]


def test_duplicate_keys_in_a_manifest_are_refused_like_kubectl(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text(NAMESPACE + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\n"
                 "spec:\n  replicas: 1\n  replicas: 3\n")
    with pytest.raises(ManifestError) as exc:
        load_paths([str(f)])
    assert exc.value.problems == [f"{f} doc 2: not valid YAML (line 10, column 3): duplicate key 'replicas' "
                                  "(first at line 9)"]


def test_duplicate_keys_in_json_are_refused(tmp_path):
    f = tmp_path / "dup.json"
    f.write_text('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "name": "b"}}')
    with pytest.raises(ManifestError) as exc:
        load_paths([str(f)])
    assert exc.value.problems == [f"{f} doc 1: not valid JSON: duplicate key 'name' in one object (kubectl "
                                  "refuses it too)"]


def test_an_object_given_twice_is_a_warning_naming_both_places(tmp_path, capsys):
    f = tmp_path / "a.yaml"
    f.write_text(NAMESPACE)
    assert main(["matrix", str(f), str(f)]) == 0
    err = capsys.readouterr().err
    assert f"warning: Namespace a appears 2 times ({f} doc 1, {f} doc 1); the last one is used" in err


def test_empty_input_is_exit_2_not_a_clean_bill(capsys, monkeypatch):
    import io

    for command in (["check", "-"], ["matrix", "-"], ["explain", "-", "--from", "a/b", "--to", "a/c", "--port", "80"]):
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: no Kubernetes objects in <stdin>"), err
        assert "no violations" not in err


def test_unmodelled_policy_kinds_are_a_warning_and_other_kinds_a_note_only_with_verbose(tmp_path, capsys):
    f = tmp_path / "a.yaml"
    f.write_text(NAMESPACE + "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                 "metadata: {name: p, namespace: a}\n---\napiVersion: v1\nkind: ConfigMap\n"
                 "metadata: {name: c, namespace: a}\n")
    assert main(["matrix", str(f)]) == 0
    err = capsys.readouterr().err
    assert ("warning: verdicts may be incomplete: 1 policy objects of kinds the engine does not model "
            "(CiliumNetworkPolicy 1)") in err
    assert "note: skipped" not in err
    assert main(["matrix", str(f), "-v"]) == 0
    assert "note: skipped 1 objects of other kinds (ConfigMap 1)" in capsys.readouterr().err


def test_no_python_in_error_texts(tmp_path, capsys):
    f = tmp_path / "a.yaml"
    f.write_text('apiVersion: v1\nkind: Namespace\nmetadata: {name: "a\\0b"}\n')
    assert main(["matrix", str(f)]) == 2
    err = capsys.readouterr().err
    assert "\x00" not in err and "a\\x00b" in err


def test_check_refuses_a_kubernetes_version_that_is_not_one(tmp_path, capsys):
    f = tmp_path / "a.yaml"
    f.write_text(NAMESPACE)
    with pytest.raises(SystemExit) as exc:
        main(["check", str(f), "--kubernetes-version", "banana"])
    assert exc.value.code == 2
    assert "'banana' is not a Kubernetes version such as 1.32" in capsys.readouterr().err


def test_check_s_default_kubernetes_version_is_the_config_s():
    # check keeps its own copy so that its --help does not import pydantic; the two must agree.
    from stackconfig.models import ClusterConfig
    from tenancy.commands.check import DEFAULT_KUBERNETES_VERSION

    assert ClusterConfig.model_fields["kubernetes_version"].default == DEFAULT_KUBERNETES_VERSION
