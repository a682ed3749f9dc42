"""Shared fixtures: renders of the real stacks, made once per test session (the program is deterministic)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tenancy.render import Render, render_stack  # noqa: E402

STACKS = ("dev", "staging", "prod")
_renders: dict[str, Render] = {}


def rendered(stack: str) -> Render:
    if stack not in _renders:
        _renders[stack] = render_stack(stack, REPO_ROOT)
    return _renders[stack]


@pytest.fixture(scope="session")
def dev() -> Render:
    return rendered("dev")


@pytest.fixture(scope="session")
def prod() -> Render:
    return rendered("prod")


@pytest.fixture(scope="session", params=STACKS)
def any_stack(request) -> Render:
    return rendered(request.param)
