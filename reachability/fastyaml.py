"""Multi-document YAML to Python objects with `yaml.SafeLoader` results, about twice as fast.

PyYAML's C loader still builds a node graph and runs the constructor in Python, which dominated loading a
1,000-tenant export. Here objects are built straight from libyaml's event stream; plain scalars are resolved with
PyYAML's own implicit resolvers, so results are identical. Anything unusual (explicit tags, merge keys, complex
keys) makes the whole text fall back to the safe loader rather than risk a difference.
"""

from __future__ import annotations

from typing import Any, Iterator

import yaml
from yaml import events as ev

try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - libyaml missing: always use the safe loader
    CParser = None

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_BOOLS = yaml.constructor.SafeConstructor.bool_values
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class _Unusual(Exception):
    """The text uses a YAML feature the fast path does not reproduce."""


def _resolve_plain(value: str) -> Any:
    for tag, regexp in _RESOLVERS.get(value[:1] if value else "", ()):
        if regexp.match(value):
            break
    else:
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return _BOOLS[value.lower()]
    if tag == _INT and value.isdigit() and (value[0] != "0" or value == "0"):
        return int(value)
    if tag == "tag:yaml.org,2002:merge":
        raise _Unusual
    # Floats, timestamps, octal/hex/sexagesimal ints: rare in manifests, let PyYAML construct them.
    return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, value))


def _documents(text: str) -> Iterator[Any]:
    parser = CParser(text)
    try:
        stack: list[Any] = []  # containers being built; a dict entry waits for its value in `keys`
        keys: list[Any] = []
        anchors: dict[str, Any] = {}
        while True:
            e = parser.get_event()
            cls = type(e)
            if cls is ev.ScalarEvent:
                if e.tag is not None and e.tag != _STR:
                    raise _Unusual
                if e.implicit[0]:
                    value: Any = _resolve_plain(e.value)
                else:
                    value = e.value  # quoted or tagged !!str: a string
                if e.anchor is not None:
                    anchors[e.anchor] = value
            elif cls is ev.MappingStartEvent or cls is ev.SequenceStartEvent:
                if e.tag is not None and not e.implicit:
                    raise _Unusual
                new: Any = {} if cls is ev.MappingStartEvent else []
                if e.anchor is not None:
                    anchors[e.anchor] = new  # aliases share the object, as PyYAML's constructor does
                stack.append(new)
                keys.append(_NO_KEY)
                continue
            elif cls is ev.MappingEndEvent or cls is ev.SequenceEndEvent:
                value = stack.pop()
                keys.pop()
            elif cls is ev.DocumentStartEvent:
                anchors.clear()  # anchors are scoped to their document
                continue
            elif cls is ev.DocumentEndEvent:
                continue
            elif cls is ev.StreamStartEvent:
                continue
            elif cls is ev.StreamEndEvent:
                return
            elif cls is ev.AliasEvent:
                if e.anchor not in anchors:
                    raise _Unusual  # let the safe loader report the undefined alias
                value = anchors[e.anchor]
            else:
                raise _Unusual
            if not stack:
                yield value
                continue
            top = stack[-1]
            if type(top) is list:
                top.append(value)
            elif keys[-1] is _NO_KEY:
                if isinstance(value, (dict, list)):
                    raise _Unusual  # complex keys
                keys[-1] = value
            else:
                top[keys[-1]] = value
                keys[-1] = _NO_KEY
    finally:
        parser.dispose()


_NO_KEY = object()


def load_all(text: str) -> Iterator[Any]:
    """Yield each document like `yaml.load_all(text, SafeLoader)`; raises yaml.YAMLError on invalid YAML."""
    if CParser is None:
        yield from yaml.load_all(text, Loader=_SafeLoader)
        return
    produced = 0
    try:
        for doc in _documents(text):
            produced += 1
            yield doc
    except _Unusual:
        for i, doc in enumerate(yaml.load_all(text, Loader=_SafeLoader)):
            if i >= produced:
                yield doc
