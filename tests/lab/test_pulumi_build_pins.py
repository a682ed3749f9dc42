"""The Pulumi pins of tenancy/lab/versions.toml agree with each other, with the wrapper modules and with the Python
SDKs installed from requirements.txt: the CLI, its language host and the `pulumi` SDK are one release, and the
Kubernetes provider and the `pulumi_kubernetes` SDK are one release (the provider's pseudo-version is the commit of
that release's tag). No build needed: these run anywhere."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

from tenancy.lab import build as lab_build
from tenancy.lab import build_pulumi, cache

VERSIONS = lab_build.load_versions()
ROOT = Path(__file__).resolve().parents[2]
SDK_V3 = "github.com/pulumi/pulumi/sdk/v3"
PKG_V3 = "github.com/pulumi/pulumi/pkg/v3"


def _requirements() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "_", name.strip().lower())] = version.strip()
    return pins


def _wrapper_requires(name: str) -> dict[str, str]:
    requires, _ = lab_build.go_mod_pins((lab_build.GOMOD_DIR / name / "go.mod").read_text())
    return requires


def test_cli_language_host_and_python_sdk_are_one_release() -> None:
    cli, host = VERSIONS["pulumi"], VERSIONS["pulumi-language-python"]
    assert cli["module"] == PKG_V3 and cli["packages"] == ["cmd/pulumi"]
    assert cli["sdk"] == cli["version"], "pkg/v3 and sdk/v3 must be the same release (pkg/v3 replaces sdk/v3 by ../sdk)"
    assert host["module"] == SDK_V3 and host["version"] == cli["version"]
    release = build_pulumi.python_version(cli["version"])
    assert importlib.metadata.version("pulumi") == release, "the installed pulumi SDK is not the CLI's release"
    assert _requirements()["pulumi"] == release, "requirements.txt pins another pulumi than the CLI's release"


def test_kubernetes_provider_and_python_sdk_are_one_pin() -> None:
    provider = VERSIONS["pulumi-kubernetes"]
    assert provider["module"] == "github.com/pulumi/pulumi-kubernetes/provider/v4"
    # provider/v4 has no tags: a pseudo-version of the release's commit (vX.0.0-yyyymmddhhmmss-12 hex digits).
    assert re.fullmatch(r"v4\.0\.0-\d{14}-[0-9a-f]{12}", provider["version"]), provider["version"]
    assert provider["release"] == "v" + provider["python_sdk"] == provider["go_sdk"]
    assert importlib.metadata.version("pulumi_kubernetes") == provider["python_sdk"], (
        "the installed pulumi_kubernetes is not the release the provider is built from")
    assert _requirements()["pulumi_kubernetes"] == provider["python_sdk"]


def test_installed_kubernetes_sdk_asks_the_engine_for_the_pinned_provider() -> None:
    """The SDK's pulumi-plugin.json is what the language host reports to the engine as a required plugin."""
    dist = importlib.metadata.distribution("pulumi_kubernetes")
    plugin_files = [f for f in dist.files or [] if f.name == "pulumi-plugin.json"]
    assert plugin_files, "pulumi_kubernetes ships no pulumi-plugin.json"
    data = json.loads(Path(str(dist.locate_file(plugin_files[0]))).read_text())
    assert data["resource"] is True and data["name"] == "kubernetes"
    assert data.get("version", VERSIONS["pulumi-kubernetes"]["python_sdk"]) == VERSIONS["pulumi-kubernetes"]["python_sdk"]


def test_wrapper_modules_require_the_pins() -> None:
    cli = _wrapper_requires("pulumi")
    assert cli[PKG_V3] == VERSIONS["pulumi"]["version"] and cli[SDK_V3] == VERSIONS["pulumi"]["sdk"]
    assert _wrapper_requires("pulumi-language-python")[SDK_V3] == VERSIONS["pulumi-language-python"]["version"]
    provider = VERSIONS["pulumi-kubernetes"]
    requires = _wrapper_requires("pulumi-kubernetes")
    assert requires[provider["module"]] == provider["version"]
    assert requires["github.com/pulumi/pulumi-kubernetes/sdk/v4"] == provider["go_sdk"]
    gomod = (lab_build.GOMOD_DIR / "pulumi-kubernetes" / "go.mod").read_text()
    assert f"replace {provider['module']} => ./provider" in gomod
    for component in build_pulumi.COMPONENTS:
        lab_build.check_wrapper(component, VERSIONS[component.section_name])


def test_language_host_source_is_keyed_by_its_digest() -> None:
    assert VERSIONS["pulumi-language-python"]["source_sha256"] == build_pulumi.source_digest(), (
        "main.go changed: put its sha256 in versions.toml [pulumi-language-python] source_sha256")
    assert build_pulumi.langhost_version(VERSIONS["pulumi-language-python"]) == (
        build_pulumi.python_version(VERSIONS["pulumi"]["version"]) + "+tenancy.lab")


def test_lab_path_carries_the_pulumi_binaries_first(tmp_path: Path) -> None:
    components = {c.name: c for c in lab_build.COMPONENTS}
    assert {"pulumi", "pulumi-language-python", "pulumi-kubernetes"} <= set(components)
    env = build_pulumi.pulumi_env(tmp_path / "home", tmp_path / "state", base={"PATH": "/usr/bin:/bin",
                                                                                "PULUMI_IGNORE_AMBIENT_PLUGINS": "1"})
    path = env["PATH"].split(":")
    for name in ("pulumi", "pulumi-language-python", "pulumi-kubernetes"):
        bin_dir = str(lab_build.dir_of(components[name]) / "bin")
        assert bin_dir in path and path.index(bin_dir) < path.index("/usr/bin"), name
    assert env["PATH"] == cache.lab_path_env("/usr/bin:/bin")
    assert env["PULUMI_HOME"] == str(tmp_path / "home")
    assert env["PULUMI_BACKEND_URL"] == f"file://{tmp_path / 'state'}"
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "1"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert "PULUMI_IGNORE_AMBIENT_PLUGINS" not in env
