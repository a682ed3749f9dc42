"""Custom resources checked the way the API server checks them, from the CustomResourceDefinitions themselves.

The cluster-scoped policy kinds of SIG-Network's network-policy-api (`ClusterNetworkPolicy`, `AdminNetworkPolicy`,
`BaselineAdminNetworkPolicy`) are not in the Kubernetes OpenAPI documents kubernetes-validate ships; their truth is
the CRD YAML of the release, shipped unmodified in `kube/crds/<channel>/`. Nothing about their schema is written
here. Per object, in the API server's order (apiextensions-apiserver `customResourceStrategy.Validate`):

1. `apiVersion`/`kind` must be a version the CRD serves; `default:` values are filled in first, as the API server
   does before validating;
2. the version's structural `openAPIV3Schema` (types, enums, bounds, patterns, required fields, item and property
   counts; every keyword the CRDs use, `KEYWORDS`, and the tests prove it agrees with `jsonschema` on them), unknown
   fields (refused, as `kubectl apply` asks for strict field validation by default), and
   `x-kubernetes-list-type: set|map` (no duplicate items / keys), in one pass (~0.1 ms an object);
3. the `x-kubernetes-validations` CEL rules, each evaluated natively (`NATIVE_RULES`, proved equal to cel-python's
   evaluation of the rule text in the tests) or by cel-python, with Kubernetes' CEL CIDR library (`isCIDR`,
   `cidr`, `.masked()`) on Go's `net/netip` parsing rules; as the API server does, they are skipped (with a
   line saying so) when a type or enum error makes the object unfit for them.

Two channels: `standard` (what this program renders, and what its tests hold it to) and `experimental` (a superset:
node and domain-name peers, named ports). The manifest loader refuses only what neither would accept.

`metadata` is left to the manifest loader (names and labels, one place for both), and `status` is ignored: the
API server drops it on create when the status subresource is on, as it is for these kinds.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CRD_DIR = Path(__file__).with_name("crds")
STANDARD, EXPERIMENTAL = "standard", "experimental"
GROUP = "policy.networking.k8s.io"
# ObjectMeta's fields: anything else under metadata is an unknown field to a strict API server.
OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
    "managedFields",
})
# What the API server says, in substance, when a type or enum error stops it from running the CEL rules.
BLOCKED_NOTE = ("x-kubernetes-validations rules not checked: like the API server, they run only once the type and "
                "value errors above are fixed")


@dataclass(frozen=True)
class Served:
    """One served version of one CRD of one channel."""

    kind: str
    api_version: str
    schema: dict
    release: str  # "network-policy-api v0.3.0"
    channel: str


def _load_crd(path: Path) -> list[Served]:
    crd = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    annotations = crd["metadata"].get("annotations", {})
    release = f"network-policy-api {annotations.get(f'{GROUP}/bundle-version', '?')}"
    channel = annotations.get(f"{GROUP}/channel", path.parent.name)
    spec = crd["spec"]
    return [Served(spec["names"]["kind"], f"{spec['group']}/{v['name']}", v["schema"]["openAPIV3Schema"], release,
                   channel)
            for v in spec["versions"] if v.get("served")]


@functools.cache
def served(channel: str = STANDARD) -> dict[tuple[str, str], Served]:
    """(apiVersion, kind) -> schema, for every version the shipped CRDs of `channel` serve."""
    out: dict[tuple[str, str], Served] = {}
    for path in sorted((CRD_DIR / channel).glob("*.yaml")):
        for version in _load_crd(path):
            out[(version.api_version, version.kind)] = version
    if not out:
        raise ValueError(f"no CRDs of channel {channel!r} in {CRD_DIR}")
    return out


def definitions(channel: str = STANDARD) -> list[dict]:
    """The CustomResourceDefinition objects of `channel`, as shipped (for a cluster that should serve them)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
            for path in sorted((CRD_DIR / channel).glob("*.yaml"))]


def kinds() -> frozenset[str]:
    return frozenset(kind for _, kind in served())


def is_custom_resource(obj: Any) -> bool:
    """Whether `obj` claims a kind of the shipped CRDs (whatever its version)."""
    return isinstance(obj, dict) and isinstance(obj.get("kind"), str) and obj["kind"] in kinds() \
        and isinstance(obj.get("apiVersion"), str) and obj["apiVersion"].split("/")[0] == GROUP


def _of_kind(kind: str, channel: str) -> list[Served]:
    return [v for (_, k), v in served(channel).items() if k == kind]


def release(obj: dict, channel: str = STANDARD) -> str:
    """Which CRD `obj` is checked against ("network-policy-api v0.3.0 CRD"), for messages."""
    version = served(channel).get((obj["apiVersion"], obj["kind"])) or _of_kind(obj["kind"], channel)[0]
    return f"{version.release} CRD"


def problems(obj: dict, channel: str = EXPERIMENTAL) -> list[str]:
    """Every reason the API server, with the shipped CRDs of `channel` installed, would refuse `obj`, as
    `field: message` lines in document order; [] when it would accept it. Only for objects `is_custom_resource`
    accepts. The default, the experimental channel, refuses only what no installation accepts (right for reading
    someone's manifests); pass STANDARD to hold an object to the standard channel, as the program's own output is.
    Memoised by content: `check` and `diff` meet the same objects more than once."""
    try:
        text = json.dumps(obj, sort_keys=True)
    except (TypeError, ValueError):  # not JSON data (a YAML timestamp, say): not worth a cache entry
        return _problems(obj, channel)
    key = (text, channel)
    found = _MEMO.get(key)
    if found is None:
        # The walk copies where it fills in defaults and never changes `obj`, so the object itself is checked:
        # parsing the key's text back (as an lru_cache on the text would) cost more than the walk.
        found = _MEMO[key] = tuple(_problems(obj, channel))
        if len(_MEMO) > _MEMO_SIZE:
            del _MEMO[next(iter(_MEMO))]  # the oldest
    return list(found)


_MEMO: dict[tuple[str, str], tuple[str, ...]] = {}
_MEMO_SIZE = 8192


def _problems(obj: dict, channel: str) -> list[str]:
    kind, api_version = obj["kind"], obj["apiVersion"]
    version = served(channel).get((api_version, kind))
    if version is None:
        others = _of_kind(kind, channel)
        offered = ", ".join(sorted(v.api_version for v in others))
        return [f"apiVersion: {kind} is served as {offered} by {others[0].release}'s CRD, not {api_version!r}"]
    node = _compiled(channel, api_version, kind)
    obj = {k: v for k, v in obj.items() if k != "status"}
    walk = _Walk()
    defaulted = walk.value(node, obj, "")
    found = walk.found
    if walk.blocked:
        found.append(BLOCKED_NOTE)
    else:
        found += _cel(node, defaulted, "", root=True)
    return found


# --- OpenAPI schema (structural) --------------------------------------------------------------------------------

# Every keyword of the shipped CRDs' schemas; tests/kube/test_customresources.py fails on any other, so a new
# CRD cannot bring a rule that is silently not checked. (`description` and the map type carry no validation.)
KEYWORDS = frozenset({
    "type", "properties", "additionalProperties", "items", "required", "enum", "default", "format", "pattern",
    "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties",
    "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations",
    "description",
})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}
_FORMAT_BITS = {"int32": 32, "int64": 64}


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    # Go's `$` (RE2, no multi-line) is the end of the text; Python's would also match before a final newline.
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def path_text(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else type(value).__name__


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Node:
    """One schema node, compiled once: what the walk needs without dictionary look-ups per object."""

    __slots__ = ("type", "enum", "props", "defaults", "required", "min_props", "max_props", "extra", "items",
                 "min_items", "max_items", "list_type", "map_keys", "min_len", "max_len", "pattern", "minimum",
                 "maximum", "format", "rules", "rules_below", "is_metadata")

    def __init__(self, schema: dict, is_metadata: bool = False) -> None:
        unknown = set(schema) - KEYWORDS
        if unknown:
            raise ValueError(f"schema keyword(s) not checked by kube/customresources.py: {', '.join(sorted(unknown))}")
        self.type: str | None = schema.get("type")
        self.enum: list | None = schema.get("enum")
        props = schema.get("properties")
        self.props: dict[str, _Node] | None = (
            {k: _Node(v, is_metadata=(k == "metadata" and self.is_root(schema))) for k, v in props.items()}
            if isinstance(props, dict) else None)
        self.defaults = {k: v["default"] for k, v in (props or {}).items() if "default" in v}
        self.required: tuple[str, ...] = tuple(schema.get("required", ()))
        self.min_props, self.max_props = schema.get("minProperties"), schema.get("maxProperties")
        extra = schema.get("additionalProperties")
        self.extra = _Node(extra) if isinstance(extra, dict) else None
        items = schema.get("items")
        self.items = _Node(items) if isinstance(items, dict) else None
        self.min_items, self.max_items = schema.get("minItems"), schema.get("maxItems")
        self.list_type, self.map_keys = schema.get("x-kubernetes-list-type"), schema.get("x-kubernetes-list-map-keys", [])
        self.min_len, self.max_len = schema.get("minLength"), schema.get("maxLength")
        self.pattern: str | None = schema.get("pattern")
        self.minimum, self.maximum = schema.get("minimum"), schema.get("maximum")
        self.format: str | None = schema.get("format")
        self.rules: tuple[dict, ...] = tuple(schema.get("x-kubernetes-validations", ()))
        self.is_metadata = is_metadata
        below = [*(self.props or {}).values(), *(n for n in (self.extra, self.items) if n is not None)]
        self.rules_below: bool = bool(self.rules) or any(n.rules_below for n in below)

    @staticmethod
    def is_root(schema: dict) -> bool:
        return "apiVersion" in (schema.get("properties") or {}) and "kind" in (schema.get("properties") or {})

    def child(self, key: str) -> _Node | None:
        sub = self.props.get(key) if self.props is not None else None
        return sub if sub is not None else self.extra


@functools.cache
def _compiled(channel: str, api_version: str, kind: str) -> _Node:
    return _Node(served(channel)[(api_version, kind)].schema)


class _Walk:
    """One pass over an object and its schema, as apiextensions validates a custom resource: defaults filled in,
    then types, enums, bounds, counts, required and unknown fields, and list-type uniqueness. `found` collects the
    problems; `blocked` is set by a type or enum error, after which the API server runs no CEL rule."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.blocked = False
        self.keywords: list[tuple[str, str]] = []  # (path of the value, schema keyword) per schema violation

    def problem(self, path: str, message: str, keyword: str = "") -> None:
        self.found.append(f"{path}: {message}" if path else message)
        if keyword:
            self.keywords.append((path, keyword))

    def value(self, node: _Node, value: Any, path: str) -> Any:
        """Check `value` at `path`; return it with defaults filled in (a copy only where one was added)."""
        if node.type is not None and not _TYPES[node.type](value):
            self.problem(path, f"must be of type {node.type}, got {_json_type(value)}", "type")
            self.blocked = True
            return value
        if node.enum is not None and value not in node.enum:
            self.problem(path, f"unsupported value {value!r} (expected one of {', '.join(map(str, node.enum))})",
                         "enum")
            self.blocked = True
        if isinstance(value, dict):
            return self._object(node, value, path)
        if isinstance(value, list):
            return self._array(node, value, path)
        if isinstance(value, str):
            self._string(node, value, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._number(node, value, path)
        return value

    def _object(self, node: _Node, value: dict, path: str) -> dict:
        if node.is_metadata:  # ObjectMeta: the CRD says only `type: object`; the loader checks names and labels
            for key in value:
                if key not in OBJECT_META_FIELDS:
                    self.problem(f"metadata.{key}", "unknown field")
            return value
        if node.defaults:
            missing = {k: copy.deepcopy(v) for k, v in node.defaults.items() if k not in value}
            if missing:
                value = {**value, **missing}
        for name in node.required:
            if name not in value:
                self.problem(_key(path, name), "required")
                self.keywords.append((path, "required"))
        lo, hi = node.min_props, node.max_props
        if lo is not None and len(value) < lo:
            self.keywords.append((path, "minProperties"))
        if hi is not None and len(value) > hi:
            self.keywords.append((path, "maxProperties"))
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            if lo == hi == 1 and node.props:
                have = ", ".join(value) if value else "none"
                self.problem(path, f"exactly one of {', '.join(node.props)} must be set (has {have})")
            elif lo is not None and len(value) < lo:
                self.problem(path, f"must have at least {lo} field{'s' if lo != 1 else ''} (has {len(value)})")
            else:
                self.problem(path, f"may have at most {hi} field{'s' if hi != 1 else ''} (has {len(value)})")
        out: dict | None = None
        for key, child in value.items():
            sub = node.child(key)
            if sub is None:
                if node.props is not None:
                    self.problem(_key(path, key), "unknown field")
                continue
            checked = self.value(sub, child, _key(path, key))
            if checked is not child:
                out = out if out is not None else dict(value)
                out[key] = checked
        return out if out is not None else value

    def _array(self, node: _Node, value: list, path: str) -> list:
        lo, hi = node.min_items, node.max_items
        if lo is not None and len(value) < lo:
            self.problem(path, f"must have at least {lo} item{'s' if lo != 1 else ''} (has {len(value)})", "minItems")
        if hi is not None and len(value) > hi:
            self.problem(path, f"may have at most {hi} items (has {len(value)})", "maxItems")
        out = value
        if node.items is not None:
            checked = [self.value(node.items, child, f"{path}[{i}]") for i, child in enumerate(value)]
            if any(c is not v for c, v in zip(checked, value)):
                out = checked
        if node.list_type in ("set", "map"):
            seen: dict[str, int] = {}
            for i, item in enumerate(out):
                if node.list_type == "map" and not isinstance(item, dict):
                    continue
                ident = json.dumps(item if node.list_type == "set" else [item.get(k) for k in node.map_keys],
                                   sort_keys=True)
                if ident in seen:
                    self.problem(f"{path}[{i}]", f"duplicate value {item!r} (same as {path}[{seen[ident]}])")
                else:
                    seen[ident] = i
        return out

    def _string(self, node: _Node, value: str, path: str) -> None:
        lo, hi = node.min_len, node.max_len
        if lo is not None and len(value) < lo:
            self.problem(path, f"must be at least {lo} character{'s' if lo != 1 else ''} (is {len(value)})",
                         "minLength")
        if hi is not None and len(value) > hi:
            self.problem(path, f"may be at most {hi} characters (is {len(value)})", "maxLength")
        if node.pattern is not None and not _pattern(node.pattern).search(value):
            self.problem(path, f"{value!r} does not match {node.pattern!r}", "pattern")

    def _number(self, node: _Node, value: float, path: str) -> None:
        lo, hi = node.minimum, node.maximum
        if lo is not None and value < lo:
            self.problem(path, f"must be at least {lo} (is {value})", "minimum")
        if hi is not None and value > hi:
            self.problem(path, f"must be at most {hi} (is {value})", "maximum")
        bits = _FORMAT_BITS.get(node.format or "")
        if bits and isinstance(value, int) and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            self.problem(path, f"does not fit {node.format}")


# --- CEL ------------------------------------------------------------------------------------------------------

def _rule_start_before_end(value: Any) -> bool:
    return _cel_lt(_field(value, "start"), _field(value, "end"))


def _rule_is_masked_cidr(value: Any) -> bool:
    if not isinstance(value, str):
        raise RuleError(f"no such overload: isCIDR({_json_type(value)})")
    try:
        cidr = parse_cidr(value)
    except ValueError:
        return False
    return cidr == masked(cidr)


def _rule_is_cidr(value: Any) -> bool:
    if not isinstance(value, str):
        raise RuleError(f"no such overload: isCIDR({_json_type(value)})")
    try:
        parse_cidr(value)
    except ValueError:
        return False
    return True


def _rule_named_default(value: Any) -> bool:
    name = _field(_field(value, "metadata"), "name")
    if not isinstance(name, str):
        raise RuleError(f"no such overload: {_json_type(name)} == string")
    return name == "default"


# CEL's logical operators are commutative over errors (`false && error` is false, `true || error` is true), and
# `exists` is true if any element is, else an error if any element errs. The named-port rules below keep that
# exactly, three-valued: True, False, or a RuleError.

def _exists_has(items: Any, names: tuple[str, ...]) -> bool | RuleError:
    """`items.exists(x, has(x.<n1>) || has(x.<n2>) ...)`."""
    if not isinstance(items, list):
        return RuleError(f"no such overload: {_json_type(items)}.exists()")
    outcome: bool | RuleError = False
    for item in items:
        if not isinstance(item, dict):
            outcome = RuleError(f"no such overload: has() on {_json_type(item)}")
        elif any(name in item for name in names):
            return True
    return outcome


def _no_named_ports_with(peer_kinds: tuple[str, ...], ports: str, named: str) -> Callable[[Any], bool]:
    """`!(self.to.exists(peer, has(peer.<kind>) || ...) && has(self.<ports>) && self.<ports>.exists(port,
    has(port.<named>)))`: no named port in an egress rule with address-like peers (they have no named ports)."""
    def rule(value: Any) -> bool:
        if not isinstance(value, dict):
            raise RuleError(f"no such overload: {_json_type(value)}.to")
        address_peers = _exists_has(value["to"], peer_kinds) if "to" in value else RuleError("no such key: to")
        has_ports = ports in value
        named_ports = _exists_has(value[ports], (named,)) if has_ports else RuleError(f"no such key: {ports}")
        parts = (address_peers, has_ports, named_ports)
        if any(p is False for p in parts):
            return True
        error = next((p for p in parts if isinstance(p, RuleError)), None)
        if error is not None:
            raise error
        return False
    return rule


# The rules of the shipped CRDs, evaluated natively: building cel-python's parser costs a second per process.
# tests/kube/test_customresources.py proves each equal to cel-python's evaluation of the rule's own text
# (results and errors alike); a rule not listed here is evaluated by cel-python.
NATIVE_RULES: dict[str, Callable[[Any], bool]] = {
    "self.start < self.end": _rule_start_before_end,
    "isCIDR(self) && cidr(self) == cidr(self).masked()": _rule_is_masked_cidr,
    "isCIDR(self)": _rule_is_cidr,
    "self.metadata.name == 'default'": _rule_named_default,
    # experimental channel only
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) && has(self.protocols) "
    "&& self.protocols.exists(protocol, has(protocol.destinationNamedPort)))":
        _no_named_ports_with(("networks", "nodes", "domainNames"), "protocols", "destinationNamedPort"),
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes) || has(peer.domainNames)) && has(self.ports) "
    "&& self.ports.exists(port, has(port.namedPort)))":
        _no_named_ports_with(("networks", "nodes", "domainNames"), "ports", "namedPort"),
    "!(self.to.exists(peer, has(peer.networks) || has(peer.nodes)) && has(self.ports) "
    "&& self.ports.exists(port, has(port.namedPort)))":
        _no_named_ports_with(("networks", "nodes"), "ports", "namedPort"),
}


class RuleError(Exception):
    """A CEL rule could not be evaluated (a missing field, a type it has no overload for)."""


def _field(value: Any, name: str) -> Any:
    if not isinstance(value, dict):
        raise RuleError(f"no such overload: {_json_type(value)}.{name}")
    if name not in value:
        raise RuleError(f"no such key: {name}")
    return value[name]


def _cel_lt(a: Any, b: Any) -> bool:
    """CEL `<`: numbers with numbers, strings with strings; anything else has no overload."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return a < b
    if isinstance(a, str) and isinstance(b, str):
        return a < b
    raise RuleError(f"no such overload: {_json_type(a)} < {_json_type(b)}")


def evaluate_rule(rule: str, value: Any, native: bool = True, variable: str = "self") -> bool:
    """Whether `value` (as `self`, or as `variable`: a ValidatingAdmissionPolicy's `object`, say) passes the CEL
    `rule`. Raises RuleError when the rule cannot be compiled or evaluated."""
    if native and variable == "self" and rule in NATIVE_RULES:
        return NATIVE_RULES[rule](value)
    try:
        import celpy  # a second to build its parser: only for rules without a native version
    except ImportError:
        raise RuleError("no native evaluation of this rule, and cel-python is not installed") from None

    try:
        result = _cel_program(rule).evaluate({variable: celpy.json_to_cel(value)})
    except celpy.CELParseError as exc:
        raise RuleError(f"not a CEL expression: {exc}") from None
    except celpy.CELEvalError as exc:
        result = exc
    if isinstance(result, celpy.CELEvalError):
        raise RuleError(str(result.args[0]) if result.args else str(result))
    from celpy import celtypes

    if not isinstance(result, celtypes.BoolType):
        raise RuleError(f"rule evaluated to {type(result).__name__}, not bool")
    return bool(result)


@functools.cache
def _cel_program(rule: str) -> Any:
    import celpy

    # celpy.Environment raises the interpreter's recursion limit for good; the rules here are shallow, and the
    # rest of the process keeps the limit it had.
    limit = sys.getrecursionlimit()
    try:
        env = celpy.Environment()
        return env.program(env.compile(rule), functions=cel_functions())
    finally:
        sys.setrecursionlimit(limit)


def _cel(node: _Node, value: Any, path: str, root: bool = False) -> Iterator[str]:
    for validation in node.rules:
        rule = validation["rule"]
        self_value = value
        if root and isinstance(value, dict):
            # At the root, CEL sees only metadata.name and metadata.generateName (apiextensions' CEL rules).
            meta = value.get("metadata")
            meta = meta if isinstance(meta, dict) else {}
            self_value = {**value, "metadata": {k: meta[k] for k in ("name", "generateName") if k in meta}}
        where = (path + validation.get("fieldPath", "")).lstrip(".")
        at = f"{where}: " if where else ""
        try:
            ok = evaluate_rule(rule, self_value)
        except RuleError as exc:
            yield f"{at}rule {rule!r} could not be evaluated: {exc}"
            continue
        if not ok:
            yield f"{at}{validation.get('message') or f'failed rule: {rule}'}"
    if isinstance(value, dict):
        for key, child in value.items():
            sub = node.child(key)
            if sub is not None and sub.rules_below:
                yield from _cel(sub, child, _key(path, key))
    elif isinstance(value, list) and node.items is not None and node.items.rules_below:
        for i, child in enumerate(value):
            yield from _cel(node.items, child, f"{path}[{i}]")


# Kubernetes' CEL CIDR library (k8s.io/apiserver/pkg/cel/library/cidr.go), on Go's net/netip.ParsePrefix rules.

@dataclass(frozen=True)
class Cidr:
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    bits: int

    def __str__(self) -> str:
        return f"{self.address}/{self.bits}"


def parse_addr(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Go's netip.ParseAddr: dotted-quad IPv4 without leading zeros, or IPv6 (zones are refused for prefixes)."""
    if "%" in text:
        raise ValueError("IPv6 zones cannot be present in a prefix")
    for char in text:
        if char == ".":
            return ipaddress.IPv4Address(text)
        if char == ":":
            return ipaddress.IPv6Address(text)
    raise ValueError(f"unable to parse IP {text!r}")


def parse_cidr(text: str) -> Cidr:
    """k8s parseCIDR: netip.ParsePrefix, and IPv4-mapped IPv6 refused. Raises ValueError."""
    address_text, slash, bits_text = text.rpartition("/")
    if not slash:
        raise ValueError(f"netip.ParsePrefix({text!r}): no '/'")
    try:
        address = parse_addr(address_text)
    except ValueError as exc:
        raise ValueError(f"netip.ParsePrefix({text!r}): {exc}") from None
    # strconv.Atoi would take a sign or leading zeros; ParsePrefix does not.
    if (len(bits_text) > 1 and not "1" <= bits_text[0] <= "9") or not (bits_text.isascii() and bits_text.isdigit()):
        raise ValueError(f"netip.ParsePrefix({text!r}): bad bits after slash: {bits_text!r}")
    bits = int(bits_text)
    if bits > address.max_prefixlen:
        raise ValueError(f"netip.ParsePrefix({text!r}): prefix length out of range")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise ValueError(f"IPv4-mapped IPv6 address {text!r} is not allowed")
    return Cidr(address, bits)


def masked(cidr: Cidr) -> Cidr:
    network = ipaddress.ip_network((cidr.address, cidr.bits), strict=False)
    return Cidr(network.network_address, cidr.bits)


def cel_functions() -> dict[str, Callable[..., Any]]:
    """Kubernetes' CEL CIDR functions the CRDs use, for cel-python."""
    import celpy
    from celpy import celtypes

    def is_cidr(value: Any) -> Any:
        try:
            parse_cidr(str(value))
        except ValueError:
            return celtypes.BoolType(False)
        return celtypes.BoolType(True)

    def cidr(value: Any) -> Any:
        try:
            return parse_cidr(str(value))
        except ValueError as exc:
            return celpy.CELEvalError(f"network address parse error during conversion from string: {exc}")

    def cidr_masked(value: Any) -> Any:
        if not isinstance(value, Cidr):
            return celpy.CELEvalError(f"no such overload: masked({type(value).__name__})")
        return masked(value)

    def prefix_length(value: Any) -> Any:
        if not isinstance(value, Cidr):
            return celpy.CELEvalError(f"no such overload: prefixLength({type(value).__name__})")
        return celtypes.IntType(value.bits)

    return {"isCIDR": is_cidr, "cidr": cidr, "masked": cidr_masked, "prefixLength": prefix_length}
