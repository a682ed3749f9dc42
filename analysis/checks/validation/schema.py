"""The upstream OpenAPI schema of the target Kubernetes version, strict (unknown fields are errors), through
kubernetes-validate. No schema is written here.

kubernetes-validate picks "the newest shipped version not newer than the one asked for" by comparing version
strings, so "1.9" would pick the newest and an unshipped old one fails with an IndexError; the version is
therefore resolved here, with a note when the exact minor is not shipped. It also re-reads its JSON schema files on
every call (~20 ms an object); those reads are memoised, and results are memoised per object.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import kubernetes_validate
from kubernetes_validate import utils as _kv_utils
from packaging.version import Version

from kube import customresources

# The schema files never change while the process runs; without this every object re-parses megabytes of JSON.
if not hasattr(_kv_utils.schema_contents, "cache_info"):
    _kv_utils.schema_contents = functools.lru_cache(maxsize=None)(_kv_utils.schema_contents)


def shipped_versions() -> list[str]:
    """Kubernetes minor versions ("1.32") with schemas in the installed kubernetes-validate, ascending."""
    return sorted({_kv_utils.major_minor(v) for v in _kv_utils.all_versions()}, key=Version)


def resolve_version(requested: str) -> tuple[str, str | None]:
    """(minor version to validate against, note to show the user or None)."""
    shipped = shipped_versions()
    package = f"kubernetes-validate {kubernetes_validate.version.__version__}"
    if requested in shipped:
        return requested, None
    try:
        wanted = Version(requested)
    except ValueError:
        return shipped[-1], f"Kubernetes version {requested!r} is not a version; validating against {shipped[-1]}"
    older = [v for v in shipped if Version(v) <= wanted]
    chosen = older[-1] if older else shipped[0]
    return chosen, (f"{package} ships schemas for {shipped[0]}-{shipped[-1]}, not {requested}; "
                    f"validating against {chosen}")


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@functools.lru_cache(maxsize=4096)
def _check(text: str, version: str) -> tuple[str | None, str | None]:
    obj = json.loads(text)
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = _path(exc.path)
        return (f"{where}: {exc.message}" if where else exc.message), None
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as exc:
        return None, exc.message
    return None, None


def schema_problem(obj: dict, version: str) -> tuple[str | None, str | None]:
    """(first schema violation as "field: message", or None; note when no schema covers the object, or None).

    kubernetes-validate stops at the first violation of an object; fixing it reveals the next."""
    if not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        return None, None  # the loader reports these
    if customresources.is_custom_resource(obj):
        found = customresources.problems(obj, customresources.STANDARD)  # the channel the program renders
        return (f"{found[0]} ({customresources.release(obj)})" if found else None), None
    # default=str: YAML timestamps (creationTimestamp in exports) are strings on the wire, as the schema expects.
    return _check(json.dumps(obj, sort_keys=True, default=str), version)
