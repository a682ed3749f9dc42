"""analysis.checks.validation.schema's compiled fast path: it says "valid" only where jsonschema does, it does say
"valid" for the program's own objects (else it would be dead weight), and `check`'s findings are the same with it
on for every kind."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.checks import validation
from analysis.checks.validation import schema, validate

VERSION = "1.32"


def _jsonschema_valid(obj: dict) -> bool:
    return schema._check(json.dumps(obj, sort_keys=True, default=str), VERSION, False) == (None, None)


def test_the_compiled_schema_accepts_every_rendered_object(any_stack):
    objects = [o for o in any_stack.manifests() if not validation.customresources.is_custom_resource(o)]
    assert objects
    for obj in objects:
        assert schema._fast_valid(json.loads(json.dumps(obj, default=str)), VERSION), obj["kind"]


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON document, containers included."""
    yield prefix, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
                 st.text(max_size=8), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4),
                                                                                           st.integers(), max_size=2))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fast_path_never_accepts_what_jsonschema_refuses(dev, data):
    objects = [o for o in dev.manifests() if not validation.customresources.is_custom_resource(o)]
    obj = copy.deepcopy(data.draw(st.sampled_from(objects)))
    obj = json.loads(json.dumps(obj, default=str))
    paths = [p for p, _ in _paths(obj) if p and p[0] not in ("apiVersion", "kind")]
    path = data.draw(st.sampled_from(paths))
    parent = obj
    for part in path[:-1]:
        parent = parent[part]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        parent[data.draw(st.text(min_size=1, max_size=6))] = data.draw(JUNK)  # an unknown or replaced field
    else:
        parent[path[-1]] = data.draw(JUNK)
    if not _jsonschema_valid(obj):
        assert not schema._fast_valid(obj, VERSION), path


def test_findings_are_the_same_with_the_fast_path_on_for_every_kind(dev, monkeypatch):
    manifests = copy.deepcopy(dev.manifests())
    broken = copy.deepcopy(next(o for o in manifests if o["kind"] == "Deployment"))
    broken["metadata"]["name"] = "broken"
    broken["spec"]["replicas"] = "two"
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 7
    manifests.append(broken)
    slow = validate(manifests, VERSION)
    schema._check.cache_clear()
    monkeypatch.setattr(validation, "FAST_FROM", 0)
    fast = validate(manifests, VERSION)
    assert [str(v) for v in fast[0]] == [str(v) for v in slow[0]] and fast[1] == slow[1]
    assert any(str(v).startswith("openapi-schema Deployment egress-proxy/broken: spec.replicas") for v in fast[0])


@pytest.mark.parametrize("kind", ["Deployment", "NetworkPolicy"])
def test_an_unknown_field_is_refused_by_the_compiled_schema(dev, kind):
    obj = copy.deepcopy(next(o for o in dev.manifests() if o["kind"] == kind))
    obj["spec"]["sessionAfinity"] = "None"
    assert not schema._fast_valid(obj, VERSION)
    assert not _jsonschema_valid(obj)
