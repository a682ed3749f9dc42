"""One lab for the whole session (starting one costs tens of seconds): up once, torn down at the end even when a
test failed. The lab tests need Linux, root and the binaries of `python -m tenancy lab build` (CI builds them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenancy.lab import apply as lab_apply
from tenancy.lab import down, up

MANIFESTS = Path(__file__).parent / "manifests"


@pytest.fixture(scope="session")
def lab_workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lab") / "w"
    bins = up.binaries()
    try:
        up.up(workdir, bins)
        lab_apply.apply(workdir, lab_apply.load([str(MANIFESTS)]))
        yield workdir
    finally:
        down.teardown(workdir)


@pytest.fixture(scope="module")
def dev_lab(tmp_path_factory):
    from tests.lab.stacks import stack_lab

    yield from stack_lab(tmp_path_factory.mktemp("dev"), "dev")


@pytest.fixture(scope="module")
def staging_lab(tmp_path_factory):
    from tests.lab.stacks import stack_lab

    yield from stack_lab(tmp_path_factory.mktemp("staging"), "staging")
