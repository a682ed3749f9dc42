"""kube.problems: the config and manifest readers raise one kind of error, with every located line."""

from __future__ import annotations

import pytest

from analysis.reachability import ManifestError, load_objects
from kube.problems import InputProblems, raise_if_any
from stackconfig import ConfigError, parse_config


def test_nothing_collected_raises_nothing():
    raise_if_any([], ConfigError)


def test_collected_lines_are_raised_once_in_order():
    with pytest.raises(ConfigError) as caught:
        raise_if_any(["a: first", "b: second"], ConfigError)
    assert caught.value.problems == ["a: first", "b: second"]
    assert str(caught.value) == "a: first\nb: second"


def test_both_readers_raise_the_shared_error_with_every_problem():
    with pytest.raises(InputProblems) as config:
        parse_config({"cluster": {}, "tenants": [{"name": "Bad Name"}, {"name": "ok", "apps": "x"}]})
    assert isinstance(config.value, ConfigError) and len(config.value.problems) >= 2
    assert all(line.startswith("tenancy:") for line in config.value.problems)
    with pytest.raises(InputProblems) as manifests:
        load_objects([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "UPPER", "namespace": "a"}},
                      {"apiVersion": "v1", "kind": "Namespace"}])
    assert isinstance(manifests.value, ManifestError) and len(manifests.value.problems) >= 2
