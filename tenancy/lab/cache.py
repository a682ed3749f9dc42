"""Where `lab build` keeps what it builds: one cache directory outside the repository.

Layout under the cache root (`$TENANCY_LAB_CACHE`, default `${XDG_CACHE_HOME:-~/.cache}/tenancy-lab`):

    <component>-<key>/bin/<binary>    a component's binaries; <key> hashes its versions.toml section, its build
    <component>-<key>/manifest.json   recipe version and its wrapper module files (see `component_key`)
    go/mod, go/build, go/path         GOMODCACHE, GOCACHE and GOPATH of every Go build (the user's own are untouched)
    logs/<component>.log              the full log of the last build of a component (a failure names it)
    tmp/                              work and staging directories; a component directory appears only by rename
    .lock                             held while building, so concurrent builds wait instead of racing

A component directory is complete or absent: it is built under tmp/ and renamed into place, and reused as is when
present. Deleting the root is always safe (the Go module cache is written with -modcacherw so `rm -rf` works).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ENV_CACHE = "TENANCY_LAB_CACHE"
# Debian keeps iptables, ipset, conntrack and ip in sbin directories, which a non-login PATH may lack.
SYSTEM_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """The cache root: `$TENANCY_LAB_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/tenancy-lab`."""
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_CACHE)
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "tenancy-lab").absolute()


def component_key(section: Mapping[str, Any], recipe: int, files: Mapping[str, bytes] | None = None) -> str:
    """A short hash of what determines a component's output: its pins, its recipe version and its wrapper files.

    `files` maps a relative path to its content (the wrapper module's go.mod, go.sum, tools.go); anything else (the
    checkout's location, the time, unrelated pins) leaves the key unchanged.
    """
    material = {
        "section": section,
        "recipe": recipe,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted((files or {}).items())},
    }
    encoded = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def component_dir(name: str, key: str, root: Path | None = None) -> Path:
    return (root or cache_root()) / f"{name}-{key}"


def go_dirs(root: Path | None = None) -> dict[str, Path]:
    base = (root or cache_root()) / "go"
    return {"GOMODCACHE": base / "mod", "GOCACHE": base / "build", "GOPATH": base / "path"}


def go_env(root: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every Go build: the caller's, with the Go caches under the cache root.

    GOFLAGS=-mod=mod lets the wrapper modules resolve what their go.sum lacks; -modcacherw keeps the module cache
    deletable; -trimpath keeps the cache root out of the binaries. CGO is off (static binaries, no C toolchain
    needed) and GOTOOLCHAIN=local forbids downloading another Go.
    """
    env = dict(os.environ if environ is None else environ)
    for var, path in go_dirs(root).items():
        env[var] = str(path)
    env["GOFLAGS"] = "-mod=mod -modcacherw -trimpath -buildvcs=false -p=2"
    env["CGO_ENABLED"] = "0"
    env["GOTOOLCHAIN"] = "local"
    env["GOWORK"] = "off"
    return env


def log_path(name: str, root: Path | None = None) -> Path:
    return (root or cache_root()) / "logs" / f"{name}.log"


def tmp_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / "tmp"


def bin_path(name: str, root: Path | None = None) -> Path:
    """The path of the lab binary `name` (e.g. 'kube-apiserver'), whether or not it has been built yet.

    Binaries of system components (Debian packages) are looked up on the lab's PATH; a name no component provides
    raises KeyError.
    """
    from tenancy.lab import build  # the registry imports this module

    return build.binary_path(name, root)


def lab_bin_dirs(root: Path | None = None) -> list[Path]:
    """The bin/ directories of every cached component at its current pins, built or not."""
    from tenancy.lab import build

    return build.bin_dirs(root)


def lab_path_env(base_path: str | None = None, root: Path | None = None) -> str:
    """The PATH for the lab: the components' bin/ directories first, then `base_path` (default $PATH), then sbin."""
    parts: list[str] = [str(d) for d in lab_bin_dirs(root)]
    base = os.environ.get("PATH", "") if base_path is None else base_path
    parts.extend(p for p in base.split(os.pathsep) if p)
    parts.extend(SYSTEM_SBIN)
    return os.pathsep.join(_unique(parts))


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
