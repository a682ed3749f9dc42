"""The real Pulumi path with the lab's binaries and nothing else: an empty PULUMI_HOME, a file backend, the lab's
PATH. `pulumi preview` of this repository's program (the dev stack's config) runs the program through the lab's
language host and reaches the Kubernetes provider (found on PATH as an ambient plugin) without any plugin download;
the CrossGuard pack in guardrails/ loads through the same host. The kubeconfig points at a closed loopback port: no
cluster is needed for this (the lab's own cluster is exercised elsewhere)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tenancy.lab import build as lab_build
from tenancy.lab import build_pulumi

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = lab_build.load_versions()
STACK = "test"
DOWNLOAD_WORDS = ("downloading", "installing plugin", "doing install", "get.pulumi.com", "github.com/pulumi")
# A closed port on loopback: the provider sees a kubeconfig whose cluster does not answer.
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: nobody, user: {token: none}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]
current-context: nowhere
"""


class Lab:
    def __init__(self, root: Path) -> None:
        self.project = root / "project"
        self.home = root / "pulumi-home"
        self.state = root / "state"
        for path in (self.project, self.home, self.state):
            path.mkdir(parents=True)
        # The program as Pulumi.yaml declares it, in a scratch directory (so stack files never land in the
        # checkout): __main__.py imports `program` and the packages from this test's environment.
        project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
        project["runtime"]["options"]["virtualenv"] = sys.prefix
        (self.project / "Pulumi.yaml").write_text(yaml.safe_dump(project))
        shutil.copy(ROOT / "__main__.py", self.project / "__main__.py")
        shutil.copy(ROOT / "Pulumi.dev.yaml", self.project / f"Pulumi.{STACK}.yaml")
        kubeconfig = root / "kubeconfig"
        kubeconfig.write_text(KUBECONFIG)
        self.env = build_pulumi.pulumi_env(self.home)
        # The ambient plugins alone must be enough: no acquisition switch, so a download would be tried if needed.
        del self.env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"]
        self.env.update({"PULUMI_CONFIG_PASSPHRASE": "lab", "KUBECONFIG": str(kubeconfig),
                         "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
        self.pulumi = str(lab_build.binary_path("pulumi"))

    def run(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.pulumi, *args], cwd=self.project, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)

    def plugins_installed(self) -> list[str]:
        plugins = self.home / "plugins"
        return sorted(p.name for p in plugins.iterdir()) if plugins.exists() else []


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    lab_build.build([c.name for c in build_pulumi.COMPONENTS], progress=lambda _line: None)
    lab = Lab(tmp_path_factory.mktemp("pulumi"))
    login = lab.run("login", f"file://{lab.state}")
    assert login.returncode == 0, login.stderr
    init = lab.run("stack", "init", STACK, "--non-interactive")
    assert init.returncode == 0, init.stdout + init.stderr
    return lab


def _no_download(out: str, lab: Lab) -> None:
    lowered = out.lower()
    assert not [w for w in DOWNLOAD_WORDS if w in lowered], out[-4000:]
    assert lab.plugins_installed() == [], "a plugin was installed into PULUMI_HOME"


def test_plugin_ls_sees_the_project_plugins_and_installs_nothing(lab: Lab) -> None:
    proc = lab.run("plugin", "ls", "--project", "--json")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    _no_download(out, lab)


def test_preview_runs_the_program_on_the_ambient_plugins_without_any_download(lab: Lab) -> None:
    proc = lab.run("preview", "--non-interactive", "--stack", STACK, "--logtostderr", "-v=9")
    out = proc.stdout + proc.stderr
    _no_download(proc.stdout, lab)
    # The engine's own log (-v=9): every required plugin was found, none was to be installed.
    assert "doing install" not in proc.stderr and "not installed" not in proc.stderr, proc.stderr[-4000:]
    release = VERSIONS["pulumi-kubernetes"]["python_sdk"]
    # The engine used the binaries on PATH (ambient plugins), the provider at the pinned release.
    assert str(lab_build.binary_path("pulumi-resource-kubernetes")) in out, out[-4000:]
    assert str(lab_build.binary_path("pulumi-language-python")) in out, out[-4000:]
    assert f"kubernetes-{release}" not in "".join(lab.plugins_installed())
    # The program ran through the lab's host and the provider planned every object: with no cluster answering, the
    # provider previews creates from the program's inputs alone, so the preview succeeds.
    assert proc.returncode == 0, proc.stdout[-4000:]
    planned = re.search(r"\+ (\d+) to create", proc.stdout)
    assert planned and int(planned.group(1)) > 50, proc.stdout[-4000:]
    for kind in ("kubernetes:core/v1:Namespace", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                 "kubernetes:apps/v1:StatefulSet acme/shop-database"):
        assert kind in proc.stdout, proc.stdout[-4000:]


def test_preview_with_the_guardrails_pack_loads_it_through_the_python_host(lab: Lab) -> None:
    proc = lab.run("preview", "--non-interactive", "--stack", STACK, "--policy-pack", str(ROOT / "guardrails"))
    out = proc.stdout + proc.stderr
    _no_download(out, lab)
    assert "tenancy-guardrails" in out, out[-4000:]
