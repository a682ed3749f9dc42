"""Raw stack configs for the stackconfig unit tests (test_models, test_types, test_checks, ...), and `Pinned`.

A problem's wording is pinned in one place: the golden corpus (tests/bad_configs, run by test_bad_configs.py). Where
a unit test meets a rule whose wording the corpus pins, it expects a `Pinned` line instead of the sentence: the
config must still be refused, at exactly that config path, with a reason naming the values the rule must report.
Rules the corpus does not cover keep their exact wording in the unit test that covers them.
"""

from __future__ import annotations

import ipaddress

from typing import Any

import pytest

from stackconfig import ConfigError, ParsedConfig, parse_config

T0 = "tenancy:tenants[0]"
APP0 = f"{T0}.apps[0]"


def app(name: str = "shop", frontend: dict | None = None, backend: dict | None = None, **fields: Any) -> dict:
    return {
        "name": name,
        "frontend": {"image": "nginx:1.27", **(frontend or {})},
        "backend": {"image": "ghcr.io/acme/shop-api:1.4.2", **(backend or {})},
        **fields,
    }


def tenant(name: str = "acme", *apps: dict, **fields: Any) -> dict:
    return {"name": name, "apps": list(apps), **fields}


def values(*tenants: dict, **cluster: Any) -> dict:
    return {"cluster": {"cni": "calico", **cluster}, "tenants": list(tenants) or [tenant()]}


def lb(*ranges: Any) -> dict:
    return {"loadBalancer": {"sourceRanges": list(ranges)}}


def consumer(tenant_name: str, app_name: str, tier: str | None = None) -> dict:
    return {"tenant": tenant_name, "app": app_name, **({"tier": tier} if tier else {})}


def ok(raw: dict) -> ParsedConfig:
    return parse_config(raw)


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.problems


def problems_of_app(**fields: Any) -> list[str]:
    return problems(values(tenant("acme", app(**fields))))


class Pinned:
    """A problem line whose wording the corpus pins: equal to any line `<path>: <reason>` at exactly `path` whose
    reason contains each of `names` (the values, keys or paths the rule must report). Compares in lists, so
    `assert problems(raw) == [Pinned(...), "an exact line"]` checks count, order and paths of every line."""

    __slots__ = ("path", "names")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, path: str, *names: str) -> None:
        self.path = path
        self.names = names

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Pinned):
            return (self.path, self.names) == (other.path, other.names)
        if not isinstance(other, str):
            return NotImplemented
        path, separator, reason = other.partition(": ")
        return bool(separator and reason) and path == self.path and all(name in reason for name in self.names)

    def __repr__(self) -> str:
        return f"Pinned({', '.join(repr(part) for part in (self.path, *self.names))})"


def nets(cidrs: list[str]) -> list:
    """What the config model stores for these CIDR texts: it holds them parsed."""
    return [ipaddress.ip_network(c) for c in cidrs]
