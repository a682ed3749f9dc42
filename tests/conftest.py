"""Shared fixtures: renders of the real stacks, made once per test session (the program is deterministic)."""

from __future__ import annotations

import pytest

from tests.paths import REPO_ROOT

STACKS = ("dev", "staging", "prod")
_renders: dict = {}


def rendered(stack: str):
    """A stack's render (tenancy.render.Render); imported lazily so suites without Pulumi never load it."""
    from tenancy.render import render_stack

    if stack not in _renders:
        _renders[stack] = render_stack(stack, REPO_ROOT)
    return _renders[stack]


@pytest.fixture(scope="session")
def dev():
    return rendered("dev")


@pytest.fixture(scope="session")
def staging():
    return rendered("staging")


@pytest.fixture(scope="session")
def prod():
    return rendered("prod")


@pytest.fixture(scope="session", params=STACKS)
def any_stack(request):
    return rendered(request.param)
