"""Isolation as a property: for random valid configs, the program's objects (specs.plan, proven equal to the
Pulumi render in tests/program) allow exactly the declared flows — every declared flow works, nothing else does.

The default example count keeps CI quick; TENANCY_PROPERTY_EXAMPLES=10000 runs the long campaign
(see bench/property.py for a timed run with statistics)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from analysis.checks.invariants import check
from analysis.checks.proof import prove
from specs.plan import stack_objects
from stackconfig import parse_config
from stackconfig.strategies import stack_config

EXAMPLES = int(os.environ.get("TENANCY_PROPERTY_EXAMPLES", "40"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(stack_config())
def test_allowed_flows_are_exactly_the_declared_flows(raw):
    analysis = prove(parse_config(raw).config)
    actual, declared = analysis.program_flows(), analysis.declared()
    missing = {k: str(v) for k, v in declared.items() if actual.get(k) != v}
    extra = {k: str(v) for k, v in actual.items() if k not in declared}
    assert not missing, f"declared but not (exactly) allowed: {missing}"
    assert not extra, f"allowed but never declared: {extra}"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(stack_config())
def test_every_invariant_holds(raw):
    """The same checker as `tenancy check` and the CrossGuard pack, read with the config's intent and without."""
    config = parse_config(raw).config
    objects = stack_objects(config)
    assert [str(v) for v in check(objects, config)] == []
    assert [str(v) for v in check(objects, None)] == []


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_config())
def test_no_tenant_pod_is_reachable_from_an_unknown_namespace(raw):
    analysis = prove(parse_config(raw).config)
    for workload in analysis.tenant_workloads():
        assert not analysis.engine.allowed_ports("intruder/attacker", workload), workload
