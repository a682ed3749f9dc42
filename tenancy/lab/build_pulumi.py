"""`lab build` components for the real Pulumi path: the CLI, the Python language host and the Kubernetes provider.

All three come from the Go module proxy at the pins of `[pulumi]`, `[pulumi-language-python]` and
`[pulumi-kubernetes]` in tenancy/lab/versions.toml and land in the lab cache like every other component, so the
lab's PATH (`cache.lab_path_env`) carries them and Pulumi finds its plugins there as *ambient* plugins: nothing is
ever downloaded (`pulumi_env` also sets PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, so a plugin missing from PATH
is an error, never a download).

- `pulumi` (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi): pkg/v3's go.mod replaces sdk/v3 by ../sdk, so the wrapper
  module tenancy/lab/gomod/pulumi requires pkg/v3 and sdk/v3 at the same release, which is also the `pulumi` Python
  SDK of requirements.txt (tests/lab/test_pulumi_build_pins.py checks all three agree).
- `pulumi-language-python`: Pulumi's own host is the module
  github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which the proxy refuses for every version
  (403), so the lab builds its own host (tenancy/lab/gomod/pulumi-language-python/main.go) against the sdk/v3
  release of the CLI, and installs next to it the `pulumi-language-python-exec` shim that sdk/v3 ships
  (python/cmd/). It runs programs and Python policy packs; see main.go's header for what it implements.
- `pulumi-resource-kubernetes` (github.com/pulumi/pulumi-kubernetes/provider/v4, untagged: pseudo-versions only).
  main.go embeds schema-embed.json and terraform-mapping-embed.json, which the release process generates
  (`go generate` runs cmd/pulumi-resource-kubernetes/generate.go: the committed schema.json with its version set,
  and terraform-mapping.json, both re-serialised) and git ignores, so the module zip lacks them. The wrapper module
  tenancy/lab/gomod/pulumi-kubernetes requires the provider at its pin and replaces it by ./provider; the build
  copies the module out of the module cache there, runs generate.go in it with VERSION=<python_sdk> (after pointing
  its `../sdk` replace of sdk/v4 at the published sdk/v4 of the same release, as the wrapper does), then builds the
  command through the wrapper. The provider commit is the one tagged with the release whose Python SDK
  (`pulumi_kubernetes`) requirements.txt pins: one pin, two artefacts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tenancy.lab import cache
from tenancy.lab.build import GOMOD_DIR, BuildContext, BuildError, Component, check_wrapper, go_binary, go_mod_pins

PULUMI_VERSION_PACKAGE = "github.com/pulumi/pulumi/sdk/v3/go/common/version"
PROVIDER_VERSION_PACKAGE = "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
PROVIDER_CMD = "cmd/pulumi-resource-kubernetes"
SHIM = "pulumi-language-python-exec"
SDK_V4 = "github.com/pulumi/pulumi-kubernetes/sdk/v4"
LANGHOST_SOURCE = GOMOD_DIR / "pulumi-language-python" / "main.go"


def python_version(go_version: str) -> str:
    """'v3.260.0' -> '3.260.0' (Go module versions carry a 'v', Python ones do not)."""
    return go_version.removeprefix("v")


def langhost_version(section: Mapping[str, Any]) -> str:
    """What the lab's language host reports: the sdk/v3 release it is built on, marked as the lab's own build."""
    return f"{python_version(str(section['version']))}+tenancy.lab"


def source_digest(path: Path = LANGHOST_SOURCE) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(ctx: BuildContext, module: str, version: str) -> Path:
    """The module cache directory of `module`@`version`, downloaded (and checked against go.sum's database)."""
    go = go_binary(ctx.env, ctx.component.name)
    argv = [go, "mod", "download", "-json", f"{module}@{version}"]
    ctx.log.write(f"$ {' '.join(argv)}\n")
    ctx.log.flush()
    proc = subprocess.run(argv, cwd=ctx.work_dir, env=ctx.env, capture_output=True, text=True, check=False)
    ctx.log.write(proc.stdout + proc.stderr)
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError:
        info = {}
    directory = info.get("Dir") if isinstance(info, dict) else None
    if proc.returncode != 0 or not directory:
        error = info.get("Error") if isinstance(info, dict) else None
        raise BuildError(f"{ctx.component.name}: cannot download {module}@{version}: "
                         f"{error or proc.stderr.strip() or 'no directory'}")
    return Path(directory)


def _build_pulumi(ctx: BuildContext) -> None:
    check_wrapper(ctx.component, ctx.section)
    requires, _ = go_mod_pins((GOMOD_DIR / "pulumi" / "go.mod").read_text())
    sdk = str(ctx.section["sdk"])
    if requires.get("github.com/pulumi/pulumi/sdk/v3") != sdk or sdk != ctx.section["version"]:
        raise BuildError(f"pulumi: pkg/v3 {ctx.section['version']} needs sdk/v3 at the same release; versions.toml "
                         f"pins sdk {sdk}, the wrapper requires {requires.get('github.com/pulumi/pulumi/sdk/v3')}")
    module = ctx.wrapper_module()
    packages = [f"{ctx.section['module']}/{p}" for p in ctx.section["packages"]]
    ctx.go_build(module, packages, f"-s -w -X {PULUMI_VERSION_PACKAGE}.Version={ctx.section['version']}")


def _build_langhost(ctx: BuildContext) -> None:
    check_wrapper(ctx.component, ctx.section)
    digest = source_digest()
    if ctx.section.get("source_sha256") != digest:
        raise BuildError(f"pulumi-language-python: versions.toml source_sha256 is not the sha256 of "
                         f"tenancy/lab/gomod/pulumi-language-python/main.go ({digest}); update it (it keys the cache)")
    module = ctx.wrapper_module()
    # `go build -o DIR/ .` names the binary after the module path's last element: pulumi-language-python.
    ctx.go_build(module, ["."], f"-s -w -X main.version={langhost_version(ctx.section)}")
    sdk_dir = _download(ctx, str(ctx.section["module"]), str(ctx.section["version"]))
    shim = ctx.bin_dir / SHIM
    shutil.copyfile(sdk_dir / "python" / "cmd" / SHIM, shim)
    shim.chmod(0o755)


def _build_provider(ctx: BuildContext) -> None:
    section = ctx.section
    check_wrapper(ctx.component, section)
    requires, _ = go_mod_pins((GOMOD_DIR / "pulumi-kubernetes" / "go.mod").read_text())
    if requires.get(SDK_V4) != section["go_sdk"]:
        raise BuildError(f"pulumi-kubernetes: the wrapper go.mod requires sdk/v4 {requires.get(SDK_V4)}, "
                         f"versions.toml pins {section['go_sdk']}")
    go = go_binary(ctx.env, "pulumi-kubernetes")
    module = ctx.wrapper_module()
    # The wrapper replaces the provider by ./provider: the module as the proxy serves it, plus the generated files.
    source = _download(ctx, str(section["module"]), str(section["version"]))
    provider = module / "provider"
    shutil.copytree(source, provider)
    for path in [provider, *provider.rglob("*")]:  # the module cache is read-only
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    # generate.go runs inside the provider's own module, whose go.mod replaces sdk/v4 by ../sdk (absent from the
    # module zip): point it at the published sdk/v4 instead, as the wrapper does.
    ctx.run([go, "mod", "edit", f"-dropreplace={SDK_V4}", f"-require={SDK_V4}@{section['go_sdk']}"], cwd=provider)
    cmd_dir = provider / PROVIDER_CMD
    # What `go generate` does in the provider's Makefile (target k8sprovider): schema-embed.json (the committed
    # schema.json with the release's version set) and terraform-mapping-embed.json, both of which main.go embeds.
    ctx.run([go, "run", "./generate.go"], cwd=cmd_dir, env={**ctx.env, "VERSION": str(section["python_sdk"])})
    for name in ("schema-embed.json", "terraform-mapping-embed.json"):
        if not (cmd_dir / name).is_file():
            raise BuildError(f"pulumi-kubernetes: generate.go did not write {name}")
    ctx.go_build(module, [f"{section['module']}/{PROVIDER_CMD}"],
                 f"-s -w -X {PROVIDER_VERSION_PACKAGE}.Version={section['python_sdk']}")


COMPONENTS: list[Component] = [
    Component("pulumi", ("pulumi",), _build_pulumi, cold_minutes=12, wrapper="pulumi"),
    Component("pulumi-language-python", ("pulumi-language-python", SHIM), _build_langhost, cold_minutes=3,
              wrapper="pulumi-language-python"),
    Component("pulumi-kubernetes", ("pulumi-resource-kubernetes",), _build_provider, cold_minutes=10,
              wrapper="pulumi-kubernetes"),
]


def pulumi_env(home: Path, backend_dir: Path | None = None, base: Mapping[str, str] | None = None,
               root: Path | None = None) -> dict[str, str]:
    """The environment for running `pulumi` in the lab: the lab's PATH (the CLI, its language host and the
    Kubernetes provider as ambient plugins), PULUMI_HOME=`home`, no update check, no plugin acquisition, no Pulumi
    Cloud (a file backend under `backend_dir` when given; else `pulumi login file://...` must be run)."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = cache.lab_path_env(env.get("PATH", ""), root)
    env["PULUMI_HOME"] = str(home)
    env["PULUMI_SKIP_UPDATE_CHECK"] = "1"
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
    env["PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK"] = "true"
    env.pop("PULUMI_IGNORE_AMBIENT_PLUGINS", None)
    env.pop("PULUMI_ACCESS_TOKEN", None)
    if backend_dir is not None:
        env["PULUMI_BACKEND_URL"] = f"file://{backend_dir}"
    return env


def installed_python_versions(python: str) -> dict[str, str]:
    """Versions of the Pulumi Python packages installed for `python` (distribution name -> version)."""
    script = ("import importlib.metadata as m, json; "
              "print(json.dumps({n: m.version(n) for n in ('pulumi', 'pulumi_kubernetes', 'pulumi_policy')}))")
    proc = subprocess.run([python, "-c", script], capture_output=True, text=True, check=True)
    loaded: dict[str, str] = json.loads(proc.stdout)
    return loaded
