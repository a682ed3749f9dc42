"""The upstream OpenAPI schema of the target Kubernetes version, strict (unknown fields are errors), through
kubernetes-validate. No schema is written here.

kubernetes-validate picks "the newest shipped version not newer than the one asked for" by comparing version
strings, so "1.9" would pick the newest and an unshipped old one fails with an IndexError; the version is
therefore resolved here, with a note when the exact minor is not shipped. It also re-reads its JSON schema files on
every call (~20 ms an object) and lists its schema directories twice; both are memoised, and results are
memoised per object.

At scale the schemas are also compiled (fastjsonschema), which decides "valid" about ten times faster than
jsonschema walks the schema. The compiled validator only ever says "valid": an object it refuses is validated
again by jsonschema, whose first violation is the message, so messages never depend on the fast path.
Compiling costs 0.05-0.8 s a kind, so it pays only for kinds with many objects (`FAST_FROM`).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import kubernetes_validate
from kubernetes_validate import utils as _kv_utils
from packaging.version import Version

from kube import customresources

# Objects of one kind in one run from which compiling its schema pays off (Deployment: ~1 s to compile, ~1.8 ms an
# object to walk with jsonschema, ~0.15 ms compiled).
FAST_FROM = 300
_DEF_REF = re.compile(r'"\$ref": "[^"#]*#/\$defs/([^"]+)"')

# The schema files never change while the process runs; without this every object re-parses megabytes of JSON,
# and lists the package's schema directories twice (all_versions: ~3 ms an object, a third of `check` at scale).
if not hasattr(_kv_utils.schema_contents, "cache_info"):
    _kv_utils.schema_contents = functools.lru_cache(maxsize=None)(_kv_utils.schema_contents)
if not hasattr(_kv_utils.all_versions, "cache_info"):
    _kv_utils.all_versions = functools.lru_cache(maxsize=1)(_kv_utils.all_versions)


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


def _schema_file(version: str, name: str) -> Any:
    """A file of the strict schemas `validate` picks for `version` (memoised by kubernetes-validate's reader)."""
    schema_dir = f"v{[v for v in _kv_utils.all_versions() if _kv_utils.major_minor(v) <= version][-1]}-local-strict"
    return _kv_utils.schema_contents(f"kubernetes-json-schema/{schema_dir}/{name}", version)


@functools.lru_cache(maxsize=None)
def _validator(version: str, api_version: str, kind: str) -> Any:
    """kubernetes-validate's strict validator for one kind, built once: its `validate` builds a new validator and
    reference registry for every object, so the schema's $refs are resolved again each time (~4 ms an object).
    The schema is the one `validate` picks (the same version, file and definitions); a missing one raises its
    SchemaNotFoundError."""
    import jsonschema
    from referencing import Registry, Resource

    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = _schema_file(version, f"{kind.lower()}-{group_version}.json")
    except FileNotFoundError:
        raise kubernetes_validate.SchemaNotFoundError(version=version, kind=kind, api_version=api_version) from None
    registry = Resource.from_contents(_schema_file(version, "_definitions.json")) @ (
        Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


@functools.lru_cache(maxsize=None)
def _compiled(version: str, api_version: str, kind: str) -> Any:
    """fastjsonschema's validator for the same schema as `_validator`, or None when it cannot compile it. The
    schema's references into the shared definitions file become local ones, and only the definitions it reaches
    are kept: compiling all of them took a second a kind."""
    import fastjsonschema

    schema = _validator(version, api_version, kind).schema
    definitions = _schema_file(version, "_definitions.json")["$defs"]
    needed: set[str] = set()
    todo = _DEF_REF.findall(json.dumps(schema))
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += _DEF_REF.findall(json.dumps(definitions[name]))

    def local(part: Any) -> Any:
        return json.loads(_DEF_REF.sub(lambda m: f'"$ref": "#/$defs/{m.group(1)}"', json.dumps(part)))

    compiled = {k: v for k, v in local(schema).items() if k not in ("$schema", "$id")}
    compiled["$defs"] = {name: local(definitions[name]) for name in sorted(needed)}
    try:
        return fastjsonschema.compile(compiled)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None


def _fast_valid(obj: dict, version: str) -> bool:
    """True when the compiled schema accepts the object; False means "ask jsonschema", never "invalid"."""
    import fastjsonschema

    try:
        check = _compiled(version, obj["apiVersion"], obj["kind"])
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError):
        return False
    if check is None:
        return False
    try:
        check(obj)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _check(text: str, version: str, fast: bool = False) -> tuple[str | None, str | None]:
    obj = json.loads(text)
    if fast and _fast_valid(obj, version):
        return None, None
    try:
        error = next(iter(_validator(version, obj["apiVersion"], obj["kind"]).iter_errors(obj)), None)
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as exc:
        return None, exc.message
    if error is None:
        return None, None
    where = _path(error.path)
    return (f"{where}: {error.message}" if where else error.message), None


def schema_problem(obj: dict, version: str, fast: bool = False) -> tuple[str | None, str | None]:
    """(first schema violation as "field: message", or None; note when no schema covers the object, or None).

    kubernetes-validate stops at the first violation of an object; fixing it reveals the next. `fast`: try the
    compiled schema first (worth it from `FAST_FROM` objects of the kind; the answer is the same)."""
    if not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        return None, None  # the loader reports these
    if customresources.is_custom_resource(obj):
        found = customresources.problems(obj, customresources.STANDARD)  # the channel the program renders
        return (f"{found[0]} ({customresources.release(obj)})" if found else None), None
    # default=str: YAML timestamps (creationTimestamp in exports) are strings on the wire, as the schema expects.
    return _check(json.dumps(obj, sort_keys=True, default=str), version, fast)
