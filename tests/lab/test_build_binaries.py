"""The real lab binaries: `lab build` produces them (in CI `.ci/run` has built them already, so this is the cache
path) and each reports the version versions.toml pins."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tenancy.lab import build as lab_build
from tenancy.lab import cache

VERSIONS = lab_build.load_versions()


def _output(binary: Path, *args: str) -> str:
    proc = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"{binary} {' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}"
    return proc.stdout + proc.stderr


def test_lab_build_leaves_every_component_built_and_cached() -> None:
    lines: list[str] = []
    lab_build.build(progress=lines.append)  # builds only what is missing
    again: list[str] = []
    results = lab_build.build(progress=again.append)
    assert [status for _, status, _ in results] == ["cached"] * len(lab_build.COMPONENTS), again
    for component in lab_build.COMPONENTS:
        assert lab_build.is_built(component), component.name
        if not component.system:
            manifest = json.loads((lab_build.dir_of(component) / "manifest.json").read_text())
            assert manifest["section"] == VERSIONS[component.section_name]
            assert manifest["recipe"] == component.recipe


def test_kubernetes_binaries_report_the_pinned_version() -> None:
    lab_build.build(["kubernetes"], progress=lambda _line: None)
    version = VERSIONS["kubernetes"]["version"]
    for name in ("kube-apiserver", "kube-controller-manager"):
        assert _output(cache.bin_path(name), "--version").strip() == f"Kubernetes {version}", name
    client = json.loads(_output(cache.bin_path("kubectl"), "version", "--client", "--output=json"))
    assert client["clientVersion"]["gitVersion"] == version
    assert client["clientVersion"]["gitTreeState"] == "clean"


def test_kube_router_reports_the_pinned_version() -> None:
    lab_build.build(["kube-router"], progress=lambda _line: None)
    out = _output(cache.bin_path("kube-router"), "--version")
    assert re.search(rf"version {re.escape(VERSIONS['kube-router']['version'])}, built on reproducible, go1\.", out), out
    usage = _output(cache.bin_path("kube-router"), "--help")
    for flag in ("--run-firewall", "--run-router", "--run-service-proxy"):
        assert flag in usage


def test_etcd_is_debians_etcd_server_3_4() -> None:
    assert "etcd-server" in VERSIONS["debian"]["packages"]
    lab_build.build(["debian"], progress=lambda _line: None)
    out = _output(cache.bin_path("etcd"), "--version")
    assert re.search(r"^etcd Version: 3\.4\.\d+$", out, re.MULTILINE), out


def test_lab_path_finds_the_built_binaries_and_the_debian_tools() -> None:
    import shutil

    path = cache.lab_path_env("/usr/bin:/bin")
    for name in ("kube-apiserver", "kube-controller-manager", "kubectl", "kube-router"):
        assert shutil.which(name, path=path) == str(cache.bin_path(name)), name
    for name in ("iptables", "ipset", "conntrack", "ip", "openssl", "etcd"):
        assert shutil.which(name, path=path), name
