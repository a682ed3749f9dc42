"""Limits on the shape of YAML and JSON input, checked before anything is built from it.

A 1 KB YAML document can use aliases to stand for a billion values ("billion laughs"); PyYAML shares the aliased
objects, so loading is cheap, but anything that walks or re-serialises the result (JSON for Pulumi's config, a
diff, a schema validator) expands it and runs out of memory. Deep nesting makes recursive readers fail with
RecursionError instead of an answer. These limits refuse both with one line, as the Go YAML library (and with it
kubectl and the Pulumi CLI) does:

- aliasing: Go's yaml.v3 rule. Count every value a document decodes to with aliases expanded, and how many of
  those come from alias expansion; refuse once more than 100 come from aliases, more than 1,000 are decoded, and
  the aliased share exceeds 99 % (up to 400,000 values) falling linearly to 10 % (at 4,000,000 values and beyond).
- depth: at most MAX_DEPTH nested mappings/sequences. Kubernetes objects nest about 15 levels, CRDs a few dozen;
  Python's own readers give out at a few hundred.

Everything here works on parser events (or, for JSON, on the parsed value), in time linear in the text.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import yaml
from yaml import events as ev

MAX_DEPTH = 100
_ALIAS_RATIO_LOW = 400_000
_ALIAS_RATIO_HIGH = 4_000_000

_CParser: Any
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - libyaml missing
    _CParser = None


class Refused(yaml.MarkedYAMLError):
    """Valid YAML this program will not read: excessive aliasing or nesting. `problem` is one line; `document`
    the refused document's number in the stream, from 1."""

    def __init__(self, problem: str, mark: Any = None, document: int | None = None):
        super().__init__(problem=problem, problem_mark=mark)
        self.document = document


def allowed_alias_ratio(decoded: int) -> float:
    """Share of decoded values that may come from alias expansion (yaml.v3 `allowedAliasRatio`)."""
    if decoded <= _ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)


def excessive(decoded: int, aliased: int) -> bool:
    return aliased > 100 and decoded > 1000 and aliased / decoded > allowed_alias_ratio(decoded)


def aliasing_refused(expanded: int, mark: Any = None, document: int | None = None) -> Refused:
    return Refused(f"refused: excessive aliasing (its aliases expand it to {expanded:,} values; the Go YAML "
                   "library and kubectl refuse such documents too)", mark, document)


def depth_refused(mark: Any = None, document: int | None = None) -> Refused:
    return Refused(f"refused: nested more than {MAX_DEPTH} levels deep", mark, document)


def events(text: str) -> Iterator[Any]:
    """The parser events of `text` (libyaml when available)."""
    if _CParser is None:
        yield from yaml.parse(text, Loader=yaml.SafeLoader)
        return
    parser = _CParser(text)
    try:
        while True:
            event = parser.get_event()
            yield event
            if isinstance(event, ev.StreamEndEvent):
                return
    finally:
        parser.dispose()


def check_events(stream: Iterable[Any]) -> None:
    """Raise Refused if any document of the event stream aliases excessively or nests too deeply.

    Sizes are tracked per open container and per anchor, so an alias costs what it expands to without being
    expanded; time and memory are linear in the number of events."""
    sizes: list[int] = []  # per open container: values decoded inside it so far, itself included
    open_anchors: list[str | None] = []  # per open container: its anchor
    anchors: dict[str, int] = {}  # anchor -> values it expands to (-1 while its node is still open)
    decoded = aliased = document = 0
    refused: Any = None  # where the document went over the ratio; it is scanned to the end to say how big it is
    for e in stream:
        cls = type(e)
        if cls is ev.ScalarEvent:
            size = 1
            decoded += 1
            if e.anchor is not None:
                anchors[e.anchor] = 1
        elif cls is ev.MappingStartEvent or cls is ev.SequenceStartEvent:
            if len(sizes) >= MAX_DEPTH:
                raise depth_refused(e.start_mark, document)
            decoded += 1
            sizes.append(1)
            open_anchors.append(e.anchor)
            if e.anchor is not None:
                anchors[e.anchor] = -1
            continue
        elif cls is ev.MappingEndEvent or cls is ev.SequenceEndEvent:
            size = sizes.pop()
            name = open_anchors.pop()
            if name is not None:
                anchors[name] = size
        elif cls is ev.AliasEvent:
            size = anchors.get(e.anchor, 1)  # an undefined alias is the loader's error to report
            if size < 0:
                raise Refused("refused: recursive alias (a node contains an alias to itself)", e.start_mark, document)
            decoded += size
            aliased += size
            if refused is None and excessive(decoded, aliased):
                refused = e.start_mark
        elif cls is ev.DocumentStartEvent:
            document += 1
            anchors.clear()
            decoded = aliased = 0
            continue
        elif cls is ev.DocumentEndEvent:
            if refused is not None:
                raise aliasing_refused(decoded, refused, document)
            continue
        else:
            continue
        if sizes:
            sizes[-1] += size


def check_text(text: str) -> None:
    """check_events over the text's events; syntax errors surface as the parser's own yaml.YAMLError."""
    check_events(events(text))


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON value nests containers more than `limit` levels (breadth first, no recursion)."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        nxt: list[Any] = []
        for v in level:
            children = v.values() if type(v) is dict else v
            nxt.extend(c for c in children if isinstance(c, (dict, list)))
        level = nxt
    return False


class UniqueKeys:
    """Constructor mix-in that refuses a key written twice in one mapping.

    PyYAML keeps the last value silently, so a second `frontend:` or `tenancy:tenants:` (or a Deployment's second
    `replicas:`) would drop the first one without a word; YAML itself requires keys to be unique, and kubectl
    refuses them ("key already set in map").
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<:` merges are meant to be overridden by the keys beside them
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]  # from the loader mixed in
            # Compared as the dict will store them: `1:` and `true:` land on one Python key, so one would be lost.
            try:
                if key in first_line:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"duplicate key {key!r} (first at line {first_line[key] + 1})", key_node.start_mark,
                    )
                first_line[key] = key_node.start_mark.line
            except TypeError:
                continue  # unhashable key: the base constructor reports it
        return super().construct_mapping(node, deep)  # type: ignore[misc]  # the mixed-in loader's constructor


class UniqueKeyLoader(UniqueKeys, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # C only with libyaml
    """The safe loader (libyaml's when available) refusing duplicate keys."""
