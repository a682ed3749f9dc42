"""`lab build`: the lab's binaries from registries, by version, into the cache (tenancy/lab/cache.py).

A `Component` names its binaries and a build function; `COMPONENTS` is the registry (this module's components, then
`tenancy.lab.build_pulumi.COMPONENTS` when that module exists). `build()` builds what is missing, one progress line
per step, and raises `BuildError` with one clear line when it cannot (the CLI prints it and exits 2).

A build function receives a `BuildContext`: it writes its binaries into `ctx.bin_dir` (a staging directory that is
renamed into the cache only when every binary is there), may use `ctx.work_dir` as scratch, and runs commands with
`ctx.run(...)` (logged to the component's log; a non-zero exit raises `BuildError`). Go builds use
`ctx.go_build(...)` with the environment of `cache.go_env` (module and build caches under the cache root).

System components (`system=True`, the Debian packages) are not cached: they are present when `present()` says so,
and their build function installs them.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tenancy.lab import cache

LAB_DIR = Path(__file__).resolve().parent
VERSIONS_FILE = LAB_DIR / "versions.toml"
GOMOD_DIR = LAB_DIR / "gomod"
LOG_TAIL_LINES = 200


class BuildError(Exception):
    """A build that cannot go on; str() is the one line shown to the user."""


BuildFn = Callable[["BuildContext"], None]


@dataclass(frozen=True)
class Component:
    """One unit of `lab build`: a versions.toml section, the binaries it provides and how to build them.

    name:         cache directory prefix and the name `--only` takes.
    binaries:     file names the build must leave in `ctx.bin_dir` (for system components: commands on PATH).
    build:        the build function.
    recipe:       bump it when the build function changes what it produces; it is part of the cache key.
    cold_minutes: rough cold build time on a 2-core machine, for the progress line.
    section:      the versions.toml section (default: `name`).
    wrapper:      directory under tenancy/lab/gomod/ (a wrapper Go module); all its files are part of the cache key.
    system:       installed on the machine (Debian packages), not into the cache; `present` says whether it is.
    """

    name: str
    binaries: tuple[str, ...]
    build: BuildFn
    recipe: int = 1
    cold_minutes: int = 1
    section: str | None = None
    wrapper: str | None = None
    system: bool = False
    present: Callable[[Mapping[str, Any]], bool] | None = None

    @property
    def section_name(self) -> str:
        return self.section or self.name


@dataclass
class BuildContext:
    component: Component
    section: Mapping[str, Any]
    root: Path
    bin_dir: Path
    work_dir: Path
    log: IO[str]
    env: dict[str, str] = field(default_factory=dict)

    def run(self, argv: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> None:
        """Run a command with its output appended to the log; a non-zero exit raises BuildError."""
        self.log.write(f"$ {' '.join(argv)}\n")
        self.log.flush()
        try:
            proc = subprocess.run(list(argv), cwd=cwd, env=dict(env or self.env), stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT, check=False)
        except OSError as exc:
            raise BuildError(f"{self.component.name}: cannot run {argv[0]}: {exc.strerror}") from exc
        self.log.flush()
        if proc.returncode != 0:
            raise BuildError(f"{self.component.name}: {Path(argv[0]).name} {argv[1] if len(argv) > 1 else ''} "
                             f"exited {proc.returncode}".replace("  ", " "))

    def wrapper_module(self) -> Path:
        """A scratch copy of the component's wrapper module (go may rewrite go.mod/go.sum; the repository's stay)."""
        if not self.component.wrapper:
            raise BuildError(f"{self.component.name}: no wrapper module declared")
        dest = self.work_dir / "module"
        shutil.copytree(GOMOD_DIR / self.component.wrapper, dest)
        return dest

    def go_build(self, module_dir: Path, packages: Sequence[str], ldflags: str = "-s -w",
                 output: str | None = None) -> None:
        """`go build -trimpath -ldflags=... -o bin_dir/[output] PKG...` in `module_dir` with the cache's Go environment.

        Without `output` each binary is named after its package path (one per package); with it, the one package's
        binary gets that name.
        """
        target = str(self.bin_dir / output) if output else str(self.bin_dir) + os.sep
        self.run([go_binary(self.env, self.component.name), "build", "-trimpath", f"-ldflags={ldflags}",
                  "-o", target, *packages], cwd=module_dir)


# ---------------------------------------------------------------------------------------------------------------
# versions.toml and wrapper modules


def load_versions(path: Path = VERSIONS_FILE) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"cannot read {path}: {exc}") from exc


def wrapper_files(component: Component) -> dict[str, bytes]:
    """Every file of the component's wrapper module (go.mod, go.sum, tools.go, any source), by relative path."""
    if not component.wrapper:
        return {}
    directory = GOMOD_DIR / component.wrapper
    if not directory.is_dir():
        return {}
    return {path.relative_to(directory).as_posix(): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


_REQUIRE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)\s*(?://.*)?$")
_REPLACE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+v\S+)?\s+=>\s+(\S+)\s+(v\S+)\s*$")


def go_mod_pins(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(required module -> version, replaced module -> replacement version) of a go.mod's text."""
    requires: dict[str, str] = {}
    replaces: dict[str, str] = {}
    block = ""
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].rstrip() if "=>" not in raw else raw.rstrip()
        stripped = line.strip()
        if stripped.endswith("(") and stripped.split()[0] in ("require", "replace"):
            block = stripped.split()[0]
            continue
        if stripped == ")":
            block = ""
            continue
        kind = block or (stripped.split()[0] if stripped else "")
        if kind == "replace" and (m := _REPLACE.match(line)):
            replaces[m.group(1)] = m.group(3)
        elif kind == "require" and (m := _REQUIRE.match(line)):
            requires[m.group(1)] = m.group(2)
    return requires, replaces


def check_wrapper(component: Component, section: Mapping[str, Any]) -> None:
    """The wrapper's go.mod requires the pinned module at the pinned version (and the pinned staging releases)."""
    files = wrapper_files(component)
    if "go.mod" not in files:
        raise BuildError(f"{component.name}: wrapper module tenancy/lab/gomod/{component.wrapper}/go.mod is missing")
    requires, replaces = go_mod_pins(files["go.mod"].decode())
    module, version = str(section.get("module", "")), str(section.get("version", ""))
    if requires.get(module) != version:
        raise BuildError(f"{component.name}: tenancy/lab/gomod/{component.wrapper}/go.mod requires {module} "
                         f"{requires.get(module, '(nothing)')}, versions.toml pins {version}")
    staging = section.get("staging")
    if staging:
        wrong = sorted(m for m, v in replaces.items() if v != staging)
        if wrong:
            raise BuildError(f"{component.name}: go.mod replaces {', '.join(wrong)} by a version other than the "
                             f"pinned staging {staging}")


# ---------------------------------------------------------------------------------------------------------------
# Tools


def go_binary(env: Mapping[str, str], who: str) -> str:
    found = shutil.which("go", path=env.get("PATH"))
    if not found:
        raise BuildError(f"{who} needs the Go toolchain (Go 1.26 or newer) and `go` is not on PATH; install it, or "
                         f"set {cache.ENV_CACHE} to a cache that already holds the lab's binaries")
    return found


# ---------------------------------------------------------------------------------------------------------------
# The components


def _packages(section: Mapping[str, Any]) -> list[str]:
    """The section's `packages`, relative to its `module` ("." is the module root)."""
    module = str(section["module"])
    return [module if p == "." else f"{module}/{p}" for p in section["packages"]]


def _k8s_ldflags(section: Mapping[str, Any]) -> str:
    version = str(section["version"])
    match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+.*", version)
    if not match:
        raise BuildError(f"kubernetes: version {version!r} is not vMAJOR.MINOR.PATCH")
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.gitVersion={version}", f"-X {package}.gitMajor={match.group(1)}",
                  f"-X {package}.gitMinor={match.group(2)}", f"-X {package}.gitTreeState=clean"]
    return " ".join(flags)


def _build_kubernetes(ctx: BuildContext) -> None:
    check_wrapper(ctx.component, ctx.section)
    module = ctx.wrapper_module()
    packages = _packages(ctx.section)
    ctx.go_build(module, packages, _k8s_ldflags(ctx.section))


def _build_kube_router(ctx: BuildContext) -> None:
    check_wrapper(ctx.component, ctx.section)
    module = ctx.wrapper_module()
    packages = _packages(ctx.section)
    version_pkg = f"{ctx.section['module']}/pkg/version"
    ldflags = (f"-s -w -X {version_pkg}.Version={ctx.section['version']} "
               f"-X {version_pkg}.BuildDate=reproducible")
    ctx.go_build(module, packages, ldflags)


def _debian_missing(section: Mapping[str, Any]) -> list[str]:
    missing = []
    for package in section.get("packages", []):
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", str(package)], capture_output=True, text=True,
                              check=False) if shutil.which("dpkg-query") else None
        if proc is None or proc.returncode != 0 or not proc.stdout.strip().endswith(" installed"):
            missing.append(str(package))
    return missing


def _debian_present(section: Mapping[str, Any]) -> bool:
    return not _debian_missing(section)


def _build_debian(ctx: BuildContext) -> None:
    missing = _debian_missing(ctx.section)
    if not missing:
        return
    apt = shutil.which("apt-get", path=ctx.env.get("PATH"))
    if not apt:
        raise BuildError(f"debian: packages {', '.join(missing)} are missing and apt-get is not available "
                         f"(the lab needs a Debian-family Linux)")
    if os.geteuid() != 0:
        raise BuildError(f"debian: packages {', '.join(missing)} are missing and installing them needs root")
    env = dict(ctx.env, DEBIAN_FRONTEND="noninteractive")
    ctx.run([apt, "update", "-q"], env=env)
    ctx.run([apt, "install", "-y", "-q", "--no-install-recommends", *missing], env=env)


OWN_COMPONENTS: list[Component] = [
    Component("debian", ("iptables", "ipset", "conntrack", "ip", "openssl", "etcd"), _build_debian, system=True,
              present=_debian_present),
    Component("kubernetes", ("kube-apiserver", "kube-controller-manager", "kubectl"), _build_kubernetes,
              cold_minutes=15, wrapper="kubernetes"),
    Component("kube-router", ("kube-router",), _build_kube_router, cold_minutes=4, wrapper="kube-router"),
]


def _registry() -> list[Component]:
    components = list(OWN_COMPONENTS)
    try:
        extra = importlib.import_module("tenancy.lab.build_pulumi")
    except ModuleNotFoundError as exc:
        if exc.name != "tenancy.lab.build_pulumi":
            raise
    else:
        components.extend(extra.COMPONENTS)
    return components


def registry() -> list[Component]:
    """Every component, in build order: this module's, then tenancy.lab.build_pulumi's.

    Resolved on first use (and kept as the module attribute `COMPONENTS`), so that build_pulumi can import this
    module whichever of the two is imported first.
    """
    found = globals().get("COMPONENTS")
    if found is None:
        found = _registry()
        globals()["COMPONENTS"] = found
    return list(found)


def __getattr__(name: str) -> Any:
    if name == "COMPONENTS":
        registry()
        return globals()["COMPONENTS"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------------------------
# Cache lookups


def key_of(component: Component, versions: Mapping[str, Any] | None = None) -> str:
    section = section_of(component, versions)
    return cache.component_key(section, component.recipe, wrapper_files(component))


def section_of(component: Component, versions: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    versions = load_versions() if versions is None else versions
    section = versions.get(component.section_name)
    if not isinstance(section, dict):
        raise BuildError(f"{component.name}: versions.toml has no [{component.section_name}] section")
    return section


def dir_of(component: Component, root: Path | None = None, versions: Mapping[str, Any] | None = None) -> Path:
    return cache.component_dir(component.name, key_of(component, versions), root)


def is_built(component: Component, root: Path | None = None, versions: Mapping[str, Any] | None = None) -> bool:
    if component.system:
        return component.present is None or component.present(section_of(component, versions))
    bin_dir = dir_of(component, root, versions) / "bin"
    return all(os.access(bin_dir / b, os.X_OK) for b in component.binaries)


def binary_path(name: str, root: Path | None = None) -> Path:
    for component in registry():
        if name in component.binaries:
            if component.system:
                found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *cache.SYSTEM_SBIN]))
                return Path(found) if found else Path("/usr/sbin") / name
            return dir_of(component, root) / "bin" / name
    raise KeyError(f"no lab component provides {name!r}")


def bin_dirs(root: Path | None = None) -> list[Path]:
    versions = load_versions()
    return [dir_of(c, root, versions) / "bin" for c in registry() if not c.system]


# ---------------------------------------------------------------------------------------------------------------
# Building


Progress = Callable[[str], None]


def _print_progress(line: str) -> None:
    print(line, flush=True)


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def select(names: Sequence[str] | None) -> list[Component]:
    if not names:
        return registry()
    known = {c.name: c for c in registry()}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BuildError(f"unknown component {', '.join(unknown)} (known: {', '.join(known)})")
    return [c for c in registry() if c.name in names]


def _label(component: Component, section: Mapping[str, Any]) -> str:
    version = section.get("version")
    what = ", ".join(component.binaries)
    return f"lab build: {component.name} ({what}{' ' + str(version) if version else ''})"


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()
                 if ln.strip() and not ln.startswith(("# lab build ", "$ "))]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def _trim_log(path: Path) -> None:
    """Keep only the tail of a build log (the part that explains a failure)."""
    try:
        lines = path.read_text(errors="replace").splitlines(keepends=True)
    except OSError:
        return
    if len(lines) > LOG_TAIL_LINES:
        path.write_text(f"[... {len(lines) - LOG_TAIL_LINES} earlier lines dropped]\n"
                        + "".join(lines[-LOG_TAIL_LINES:]))


def build(names: Sequence[str] | None = None, progress: Progress = _print_progress, root: Path | None = None,
          components: Sequence[Component] | None = None,
          versions: Mapping[str, Any] | None = None) -> list[tuple[str, str, float]]:
    """Build every selected component that is missing; returns (name, 'cached'|'built', seconds) per component.

    `components`/`versions` replace the registry and versions.toml (tests use them). Raises BuildError.
    """
    root = root or cache.cache_root()
    versions = load_versions() if versions is None else versions
    pool = list(components) if components is not None else registry()
    if components is not None and names:
        chosen = [c for c in pool if c.name in names]
    else:
        chosen = select(names) if components is None else pool
    results: list[tuple[str, str, float]] = []
    with _locked(root):
        shutil.rmtree(cache.tmp_dir(root), ignore_errors=True)  # leftovers of an interrupted build (lock is ours)
        for component in chosen:
            section = section_of(component, versions)
            label = _label(component, section)
            if is_built(component, root, versions):
                if component.system:
                    progress(f"{label} ... installed")
                else:
                    progress(f"{label} ... cached ({dir_of(component, root, versions)})")
                results.append((component.name, "cached", 0.0))
                continue
            progress(f"{label} ... building (this takes about {component.cold_minutes} min cold)")
            started = time.monotonic()
            _build_one(component, section, root, versions)
            seconds = time.monotonic() - started
            progress(f"{label} ... done in {seconds:.0f} s")
            results.append((component.name, "built", seconds))
    return results


def _build_one(component: Component, section: Mapping[str, Any], root: Path, versions: Mapping[str, Any]) -> None:
    log = cache.log_path(component.name, root)
    log.parent.mkdir(parents=True, exist_ok=True)
    final = None if component.system else dir_of(component, root, versions)
    staging = cache.tmp_dir(root) / f"{component.name}.{os.getpid()}"
    work = cache.tmp_dir(root) / f"{component.name}.{os.getpid()}.work"
    env = cache.go_env(root)
    for path in cache.go_dirs(root).values():
        path.mkdir(parents=True, exist_ok=True)
    (staging / "bin").mkdir(parents=True)
    work.mkdir(parents=True)
    try:
        with log.open("w") as fh:
            fh.write(f"# lab build {component.name} {json.dumps(dict(section), default=str)}\n")
            ctx = BuildContext(component, section, root, staging / "bin", work, fh, env)
            try:
                component.build(ctx)
            except BuildError:
                raise
            except Exception as exc:  # a bug in a build function: still one line, the traceback in the log
                import traceback

                traceback.print_exc(file=fh)
                raise BuildError(f"{component.name}: build function raised {type(exc).__name__}: {exc}") from exc
            if final is not None:
                absent = [b for b in component.binaries if not os.access(staging / "bin" / b, os.X_OK)]
                if absent:
                    raise BuildError(f"{component.name}: the build did not produce {', '.join(absent)}")
                go = shutil.which("go", path=env.get("PATH"))
                manifest = {"component": component.name, "section": dict(section), "recipe": component.recipe,
                            "binaries": list(component.binaries), "built": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                          time.gmtime()),
                            "go": _go_version(go) if go else None}
                (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
                if final.exists():  # a complete directory appeared meanwhile (another cache user): keep it
                    shutil.rmtree(staging)
                else:
                    os.rename(staging, final)
    except BuildError as exc:
        _trim_log(log)
        detail = _last_line(log)
        message = str(exc)
        if detail and detail not in message:
            message += f": {detail}"
        raise BuildError(f"{message} (log: {log})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def _go_version(go: str) -> str | None:
    proc = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


def main_build(names: Sequence[str] | None = None) -> int:
    """The `lab build` command: 0 when everything is built or cached, 2 with one line on stderr otherwise."""
    try:
        build(names)
    except BuildError as exc:
        print(f"lab build: {exc}", file=sys.stderr)
        return 2
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "build", help="build the lab's binaries from registries into the cache (reused when present)",
        description="Build kube-apiserver, kube-controller-manager, kubectl and kube-router from the Go module proxy "
                    "at the versions pinned in tenancy/lab/versions.toml, into the lab cache "
                    "($TENANCY_LAB_CACHE, default ~/.cache/tenancy-lab), and install the Debian packages the lab "
                    "needs when they are missing. Components already in the cache are reused. Exit 2 with one line "
                    "when Go or apt-get is missing or a build fails (the line names the build log).")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="build only this component (repeatable)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return main_build(args.only or None)
