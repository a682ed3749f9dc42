"""`lab build`'s scheme: the versions file, cache keys, reuse, and failures that leave nothing half-written.

These tests build fake components (a shell script as the 'binary') into a temporary cache root; the real binaries
are exercised by test_build_binaries.py.
"""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tenancy.cli import main
from tenancy.lab import build as lab_build
from tenancy.lab import cache
from tenancy.lab.build import BuildContext, BuildError, Component

VERSIONS = lab_build.load_versions()


# ---------------------------------------------------------------------------------------------------------------
# versions.toml and the wrapper modules


def test_versions_file_has_a_section_for_every_component() -> None:
    for component in lab_build.COMPONENTS:
        section = VERSIONS.get(component.section_name)
        assert isinstance(section, dict), f"versions.toml lacks [{component.section_name}]"
        if not component.system:
            assert str(section.get("version", "")).startswith("v"), component.name


def test_go_components_pin_a_module_version_and_packages() -> None:
    names = [c.name for c in lab_build.OWN_COMPONENTS if c.wrapper]
    assert {"kubernetes", "kube-router"} <= set(names)
    for name in names:
        section = VERSIONS[name]
        assert section["module"] and section["version"] and section["packages"], name


def test_wrapper_modules_require_exactly_the_pinned_versions() -> None:
    for component in lab_build.COMPONENTS:
        if component.wrapper:
            lab_build.check_wrapper(component, VERSIONS[component.section_name])  # raises on a mismatch


def test_kubernetes_wrapper_replaces_staging_modules_by_the_pinned_release() -> None:
    text = (lab_build.GOMOD_DIR / "kubernetes" / "go.mod").read_text()
    requires, replaces = lab_build.go_mod_pins(text)
    assert requires["k8s.io/kubernetes"] == VERSIONS["kubernetes"]["version"]
    assert len(replaces) >= 30
    assert set(replaces.values()) == {VERSIONS["kubernetes"]["staging"]}
    assert {"k8s.io/api", "k8s.io/apiserver", "k8s.io/client-go", "k8s.io/kubectl"} <= set(replaces)


def test_a_wrapper_that_disagrees_with_versions_toml_is_refused() -> None:
    kubernetes = next(c for c in lab_build.COMPONENTS if c.name == "kubernetes")
    section = dict(VERSIONS["kubernetes"], version="v1.36.1")
    with pytest.raises(BuildError, match=r"requires k8s.io/kubernetes v1\.36\.\d+, versions.toml pins v1.36.1"):
        lab_build.check_wrapper(kubernetes, section)
    section = dict(VERSIONS["kubernetes"], staging="v0.36.1")
    with pytest.raises(BuildError, match="other than the pinned staging v0.36.1"):
        lab_build.check_wrapper(kubernetes, section)


def test_go_mod_pins_reads_blocks_and_single_lines() -> None:
    requires, replaces = lab_build.go_mod_pins(
        "module x\n\ngo 1.26.0\n\nrequire a.io/b v1.2.3\n\nrequire (\n\tc.io/d v0.1.0 // indirect\n)\n\n"
        "replace (\n\tk8s.io/api => k8s.io/api v0.36.3\n)\nreplace e.io/f v1.0.0 => e.io/f v1.0.1\n")
    assert requires == {"a.io/b": "v1.2.3", "c.io/d": "v0.1.0"}
    assert replaces == {"k8s.io/api": "v0.36.3", "e.io/f": "v1.0.1"}


# ---------------------------------------------------------------------------------------------------------------
# Cache root and keys


def test_cache_root_defaults_and_overrides(tmp_path: Path) -> None:
    assert cache.cache_root({"TENANCY_LAB_CACHE": str(tmp_path / "c")}) == tmp_path / "c"
    assert cache.cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "tenancy-lab"
    assert cache.cache_root({}) == Path.home() / ".cache" / "tenancy-lab"


def test_cache_key_changes_with_a_pin_and_only_then() -> None:
    kubernetes = next(c for c in lab_build.COMPONENTS if c.name == "kubernetes")
    base = lab_build.key_of(kubernetes, VERSIONS)
    assert base == lab_build.key_of(kubernetes, copy.deepcopy(VERSIONS))  # stable

    other_pins = copy.deepcopy(VERSIONS)
    other_pins["kube-router"]["version"] = "v9.9.9"
    other_pins["debian"]["packages"].append("tcpdump")
    assert lab_build.key_of(kubernetes, other_pins) == base  # another component's pins do not matter

    for field, value in (("version", "v1.36.1"), ("staging", "v0.36.1"), ("packages", ["cmd/kubectl"])):
        changed = copy.deepcopy(VERSIONS)
        changed["kubernetes"][field] = value
        assert lab_build.key_of(kubernetes, changed) != base, field


def test_cache_key_covers_recipe_and_wrapper_files() -> None:
    section = {"module": "m", "version": "v1"}
    key = cache.component_key(section, 1, {"go.mod": b"a"})
    assert cache.component_key(dict(section), 1, {"go.mod": b"a"}) == key
    assert cache.component_key(section, 2, {"go.mod": b"a"}) != key
    assert cache.component_key(section, 1, {"go.mod": b"b"}) != key
    assert cache.component_key(section, 1, {"go.mod": b"a", "go.sum": b""}) != key


def test_go_caches_live_under_the_cache_root(tmp_path: Path) -> None:
    env = cache.go_env(tmp_path, {"PATH": "/usr/bin", "GOMODCACHE": "/elsewhere", "GOFLAGS": "-x"})
    assert env["GOMODCACHE"] == str(tmp_path / "go" / "mod")
    assert env["GOCACHE"] == str(tmp_path / "go" / "build")
    assert env["GOPATH"] == str(tmp_path / "go" / "path")
    assert "-mod=mod" in env["GOFLAGS"].split() and "-modcacherw" in env["GOFLAGS"].split()
    assert env["GOTOOLCHAIN"] == "local" and env["PATH"] == "/usr/bin"


def test_lab_path_puts_component_bins_first_then_the_given_path_then_sbin(tmp_path: Path) -> None:
    parts = cache.lab_path_env("/opt/x:/usr/bin", tmp_path).split(os.pathsep)
    bins = [str(d) for d in cache.lab_bin_dirs(tmp_path)]
    assert parts[:len(bins)] == bins and all(b.startswith(str(tmp_path)) for b in bins)
    assert parts[len(bins):len(bins) + 2] == ["/opt/x", "/usr/bin"]
    assert "/usr/sbin" in parts
    assert cache.bin_path("kube-apiserver", tmp_path).parent in cache.lab_bin_dirs(tmp_path)
    with pytest.raises(KeyError):
        cache.bin_path("no-such-binary", tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# Building: reuse, atomicity, one-line failures


def _script(path: Path, text: str) -> None:
    path.write_text(f"#!/bin/sh\n{text}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _fake(name: str, calls: list[str], fail: str | None = None) -> Component:
    def run(ctx: BuildContext) -> None:
        calls.append(name)
        if fail == "command":
            ctx.run(["sh", "-c", "echo compiling; echo 'undefined: frobnicate' >&2; exit 3"])
        if fail == "exception":
            raise RuntimeError("bug in the recipe")
        _script(ctx.bin_dir / f"{name}-tool", f"echo {name} {ctx.section['version']}")
        if fail != "missing-binary":
            _script(ctx.bin_dir / f"{name}-other", "true")

    return Component(name, (f"{name}-tool", f"{name}-other"), run)


def _versions(**pins: str) -> dict[str, Any]:
    return {name: {"module": f"example.com/{name}", "version": version} for name, version in pins.items()}


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".lock" not in p.name)


def test_a_cached_component_is_not_rebuilt(tmp_path: Path) -> None:
    calls: list[str] = []
    components = [_fake("alpha", calls), _fake("beta", calls)]
    lines: list[str] = []
    first = lab_build.build(root=tmp_path, components=components, versions=_versions(alpha="v1", beta="v2"),
                            progress=lines.append)
    assert [(n, s) for n, s, _ in first] == [("alpha", "built"), ("beta", "built")]
    assert calls == ["alpha", "beta"]
    assert any(" ... building (this takes about " in ln for ln in lines)
    assert any(ln.startswith("lab build: alpha (alpha-tool, alpha-other v1) ... done in ") for ln in lines)

    lines.clear()
    second = lab_build.build(root=tmp_path, components=components, versions=_versions(alpha="v1", beta="v2"),
                             progress=lines.append)
    assert [(n, s) for n, s, _ in second] == [("alpha", "cached"), ("beta", "cached")]
    assert calls == ["alpha", "beta"]
    assert all(" ... cached (" in ln for ln in lines) and len(lines) == 2

    # A new pin for one component rebuilds that one only, into a new directory.
    third = lab_build.build(root=tmp_path, components=components, versions=_versions(alpha="v1", beta="v3"),
                            progress=lines.append)
    assert [(n, s) for n, s, _ in third] == [("alpha", "cached"), ("beta", "built")]
    assert calls == ["alpha", "beta", "beta"]
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("beta-")]) == 2
    built = next(p for p in tmp_path.iterdir() if p.name.startswith("alpha-"))
    assert (built / "manifest.json").is_file() and os.access(built / "bin" / "alpha-tool", os.X_OK)
    assert not any(cache.tmp_dir(tmp_path).iterdir()) if cache.tmp_dir(tmp_path).exists() else True


@pytest.mark.parametrize("fail, message", [
    ("command", r"^gamma: sh -c exited 3: undefined: frobnicate \(log: .*/logs/gamma\.log\)$"),
    ("exception", r"^gamma: build function raised RuntimeError: bug in the recipe \(log: .*gamma\.log\)$"),
    ("missing-binary", r"^gamma: the build did not produce gamma-other \(log: .*gamma\.log\)$"),
])
def test_a_failing_build_gives_one_line_and_leaves_no_cache_dir(tmp_path: Path, fail: str, message: str) -> None:
    calls: list[str] = []
    with pytest.raises(BuildError, match=message) as info:
        lab_build.build(root=tmp_path, components=[_fake("gamma", calls, fail)], versions=_versions(gamma="v1"),
                        progress=lambda _line: None)
    assert "\n" not in str(info.value)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("gamma-")]  # no half-written component dir
    tmp = cache.tmp_dir(tmp_path)
    assert not tmp.exists() or not any(tmp.iterdir())
    log = cache.log_path("gamma", tmp_path)
    assert log.is_file() and log.read_text().strip()
    if fail == "command":
        assert "compiling" in log.read_text()


def test_a_long_failure_log_keeps_its_tail(tmp_path: Path) -> None:
    def noisy(ctx: BuildContext) -> None:
        ctx.run(["sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done; exit 1"])

    with pytest.raises(BuildError, match=r"line 4999 \(log: "):
        lab_build.build(root=tmp_path, components=[Component("noisy", ("n",), noisy)], versions=_versions(noisy="v1"),
                        progress=lambda _line: None)
    text = cache.log_path("noisy", tmp_path).read_text()
    assert "line 4999" in text and "line 10\n" not in text and "earlier lines dropped" in text


def test_leftovers_of_an_interrupted_build_are_removed(tmp_path: Path) -> None:
    stale = cache.tmp_dir(tmp_path) / "alpha.12345"
    (stale / "bin").mkdir(parents=True)
    lab_build.build(root=tmp_path, components=[_fake("alpha", [])], versions=_versions(alpha="v1"),
                    progress=lambda _line: None)
    assert not stale.exists()


def test_missing_go_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def go_component(ctx: BuildContext) -> None:
        ctx.go_build(tmp_path, ["example.com/x"])

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BuildError, match=r"^delta needs the Go toolchain \(Go 1\.26 or newer\) and `go` is not on "
                                         r"PATH.*\(log: .*delta\.log\)$"):
        lab_build.build(root=tmp_path, components=[Component("delta", ("d",), go_component)],
                        versions=_versions(delta="v1"), progress=lambda _line: None)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("delta-")]


def test_missing_apt_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    debian = next(c for c in lab_build.COMPONENTS if c.name == "debian")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # neither dpkg-query nor apt-get
    with pytest.raises(BuildError, match=r"^debian: packages iptables, .* are missing and apt-get is not available"):
        lab_build.build(root=tmp_path, components=[debian], versions=VERSIONS, progress=lambda _line: None)


def test_cli_failure_is_one_line_on_stderr_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(cache.ENV_CACHE, str(tmp_path))
    assert main(["lab", "build", "--only", "no-such-component"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("lab build: unknown component no-such-component (known: debian, ")


def test_cli_reports_cached_components(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(cache.ENV_CACHE, str(tmp_path))
    calls: list[str] = []
    monkeypatch.setattr(lab_build, "COMPONENTS", [_fake("alpha", calls)])
    monkeypatch.setattr(lab_build, "load_versions", lambda path=None: _versions(alpha="v1"))
    assert main(["lab", "build"]) == 0
    assert main(["lab", "build", "--only", "alpha"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert calls == ["alpha"]
    assert out[-1].startswith("lab build: alpha (alpha-tool, alpha-other v1) ... cached (")


def test_the_registry_resolves_whichever_module_is_imported_first() -> None:
    import subprocess
    import sys

    code = ("import tenancy.lab.build_pulumi, tenancy.lab.build as b; "
            "print(' '.join(c.name for c in b.COMPONENTS))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          cwd=Path(lab_build.__file__).parents[2])
    assert proc.returncode == 0, proc.stderr
    names = proc.stdout.split()
    assert names[:3] == ["debian", "kubernetes", "kube-router"] and "pulumi" in names
