"""stackconfig/cni.py (seed scenario 8): which CNI plugins enforce NetworkPolicy, and what the config says about
each - a refusal for one that does not, a warning once that is acknowledged or the plugin is unknown."""

from __future__ import annotations

import pytest

from stackconfig import cni
from tests.stackconfig.helpers import Pinned, ok, problems, values


@pytest.mark.parametrize("name", ["calico", "cilium", "antrea", "weave", "kube-router", "canal", "Calico", " cilium "])
def test_enforcing_cni_passes_without_enforcement_warning(name: str) -> None:
    parsed = ok(values(cni=name))
    # The one warning an enforcing CNI can get is about admin policies (issue 13): none are rendered for a CNI
    # that implements neither cluster policy API (tests/program/test_cluster_policies.py).
    assert [w for w in parsed.warnings if not w.startswith("tenancy:cluster.adminPolicies: ")] == []
    assert bool(parsed.warnings) == (name.strip().lower() not in ("calico", "antrea"))
    assert parsed.config.cluster.cni == name.strip().lower()


def refused(name: str) -> Pinned:
    """The refusal of a non-enforcing CNI, worded by tests/bad_configs/31-cni-flannel and 32-cni-none."""
    return Pinned("tenancy:cluster.cni", f"'{name}'")


@pytest.mark.parametrize("name", sorted(cni.NON_ENFORCING))
def test_non_enforcing_cni_is_refused(name: str) -> None:
    assert problems(values(cni=name)) == [refused(name)]


def test_non_enforcing_cni_name_is_matched_case_insensitively() -> None:
    assert problems(values(cni="Flannel")) == [refused("flannel")]


def test_acknowledged_non_enforcing_cni_is_a_warning() -> None:
    parsed = ok(values(cni="flannel", allowUnenforcedPolicies=True))
    assert parsed.warnings == [
        "tenancy:cluster.cni: CNI 'flannel' does not enforce NetworkPolicy and "
        "tenancy:cluster.allowUnenforcedPolicies is true: policies are rendered but tenants are NOT isolated on "
        "this cluster"
    ]


def test_acknowledgement_is_silent_for_an_enforcing_cni() -> None:
    assert ok(values(cni="calico", allowUnenforcedPolicies=True)).warnings == []


def test_unknown_cni_is_a_warning_not_an_error() -> None:
    warnings = ok(values(cni="my-cni")).warnings
    assert warnings[0] == (
        "tenancy:cluster.cni: CNI 'my-cni' is not known to this tool; cannot tell whether it enforces "
        "NetworkPolicy. Verify enforcement before relying on tenant isolation")
    assert warnings[1].startswith(
        "tenancy:cluster.adminPolicies: no admin-tier cluster policies: cannot tell whether CNI 'my-cni' implements")
    assert len(warnings) == 2


def test_cni_lists_do_not_overlap() -> None:
    assert not cni.ENFORCING & cni.NON_ENFORCING
    assert cni.classify("CALICO") is cni.CniSupport.ENFORCING
    assert cni.classify("flannel") is cni.CniSupport.NON_ENFORCING
    assert cni.classify("whatever") is cni.CniSupport.UNKNOWN
