"""Multi-document YAML to Python objects with `yaml.SafeLoader` results, about twice as fast.

PyYAML's C loader still builds a node graph and runs the constructor in Python, which dominated loading a
1,000-tenant export. Here objects are built straight from libyaml's event stream; plain scalars are resolved with
PyYAML's own implicit resolvers, so results are identical. Anything unusual (explicit tags, merge keys, complex
keys, aliases, a key written twice, nesting deeper than the limit) makes the whole text fall back to the safe
loader rather than risk a difference; that path first checks the text against `kube.yamllimits` (excessive
aliasing, depth) and refuses a duplicate key, as kubectl does.
"""

from __future__ import annotations

from typing import Any, Iterator

import yaml
from yaml import events as ev

from kube import yamllimits

try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - libyaml missing: always use the safe loader
    CParser = None  # type: ignore[misc,assignment]  # stubs assume libyaml is built; load_all checks None first

_SafeLoader = yamllimits.UniqueKeyLoader
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
    get_event = parser.get_event
    Scalar, MapStart, SeqStart = ev.ScalarEvent, ev.MappingStartEvent, ev.SequenceStartEvent
    MapEnd, SeqEnd, DocStart, Alias = ev.MappingEndEvent, ev.SequenceEndEvent, ev.DocumentStartEvent, ev.AliasEvent
    no_key = _NO_KEY
    max_depth = yamllimits.MAX_DEPTH
    # Manifests repeat the same plain scalars (keys, kinds, protocols) endlessly; resolving each once pays off.
    plain: dict[str, Any] = {}
    try:
        stack: list[Any] = []  # containers being built
        keys: list[Any] = []  # per container: the mapping key waiting for its value
        while True:
            e: Any = get_event()  # dispatched on type(e) kept in `cls`, which mypy does not narrow through
            cls = type(e)
            if cls is Scalar:
                if e.tag is not None and e.tag != _STR:
                    raise _Unusual
                v = e.value
                if e.implicit[0]:
                    try:
                        value: Any = plain[v]
                    except KeyError:
                        value = plain[v] = _resolve_plain(v)
                else:
                    value = v  # quoted or tagged !!str: a string
            elif cls is MapStart or cls is SeqStart:
                if e.tag is not None and not e.implicit:
                    raise _Unusual
                if len(stack) >= max_depth:
                    raise _Unusual  # the safe path says where and why
                new: Any = {} if cls is MapStart else []
                stack.append(new)
                keys.append(no_key)
                continue
            elif cls is MapEnd or cls is SeqEnd:
                value = stack.pop()
                keys.pop()
            elif cls is Alias:
                raise _Unusual  # kubectl never writes aliases; the safe path checks what they expand to
            elif cls is DocStart:
                continue
            elif cls is ev.StreamEndEvent:
                return
            else:  # stream start, document end
                continue
            if not stack:
                yield value
                continue
            top = stack[-1]
            if type(top) is list:
                top.append(value)
            else:
                k = keys[-1]
                if k is no_key:
                    if isinstance(value, (dict, list)):
                        raise _Unusual  # complex keys
                    keys[-1] = value
                else:
                    if k in top:
                        raise _Unusual  # the safe path refuses the duplicate key with both lines
                    top[k] = value
                    keys[-1] = no_key
    finally:
        parser.dispose()


_NO_KEY = object()


def load_all(text: str) -> Iterator[Any]:
    """Yield each document like `yaml.load_all(text, SafeLoader)`; raises yaml.YAMLError on invalid YAML."""
    if CParser is None:
        yamllimits.check_text(text)
        yield from yaml.load_all(text, Loader=_SafeLoader)
        return
    produced = 0
    try:
        for doc in _documents(text):
            produced += 1
            yield doc
    except _Unusual:
        yamllimits.check_text(text)
        for i, doc in enumerate(yaml.load_all(text, Loader=_SafeLoader)):
            if i >= produced:
                yield doc
