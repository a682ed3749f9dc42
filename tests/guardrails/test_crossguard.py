"""The CrossGuard pack, driven the way the Pulumi engine drives it: each policy's validate function called with
ResourceValidationArgs / StackValidationArgs built from the dev stack's real resources (props behind Pulumi's
unknown-checking proxy, numbers as the doubles they travel as) and a collecting report_violation."""

from __future__ import annotations

import copy
import runpy

import pulumi_policy
import pytest
from pulumi.runtime import config as pulumi_config
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from guardrails import pack
from analysis.checks.invariants import check
from stackconfig import read_stack_file
from tenancy.recording import config_for_pulumi
from tests.paths import REPO_ROOT

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def as_sent(value):
    """What the policy sees: every number a double."""
    if isinstance(value, dict):
        return {k: as_sent(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_sent(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::tenancy::{type_}::{name}"


def resource_args(type_: str, name: str, props: dict) -> ResourceValidationArgs:
    return ResourceValidationArgs(type_, unknown_checking_proxy(as_sent(props)), urn(type_, name), name, OPTS, None)


def stack_args(resources) -> StackValidationArgs:
    return StackValidationArgs([
        PolicyResource(r.type, unknown_checking_proxy(as_sent(r.inputs)), urn(r.type, r.name), r.name, OPTS, None,
                       None, [], {})
        for r in resources])


class Reports(list):
    def __call__(self, message: str, urn: str | None = None) -> None:
        self.append((message, urn))


def policy(name: str):
    return next(p for p in pack.POLICIES if p.name == name)


@pytest.fixture
def stack_config():
    """The dev stack's config where the Pulumi runtime keeps it for the pack (as the CLI passes it)."""
    saved = pulumi_config.CONFIG.get()
    values = read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").values
    pulumi_config.set_all_config(config_for_pulumi(values))
    yield
    pulumi_config.set_all_config(saved)


@pytest.fixture
def no_stack_config():
    saved = pulumi_config.CONFIG.get()
    pulumi_config.set_all_config({})
    yield
    pulumi_config.set_all_config(saved)


def test_every_dev_resource_passes_every_resource_policy(dev, stack_config):
    reports = Reports()
    for r in dev.recording.resources:  # components (tenancy:index:*) included: they are not Kubernetes objects
        for p in pack.POLICIES:
            if isinstance(p, pulumi_policy.ResourceValidationPolicy):
                p.validate(resource_args(r.type, r.name, r.inputs), reports)
    assert reports == []


def test_resource_policies_report_what_check_reports(dev, stack_config):
    np_type = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    bad_cidr = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "lb", "namespace": "acme"},
                "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "203.0.113.0/33"}}]}]}}
    misspelt = copy.deepcopy(bad_cidr)
    misspelt["spec"] = {"podSelector": {}, "policyType": ["Ingress"]}
    open_world = copy.deepcopy(bad_cidr)
    open_world["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"] = "0.0.0.0/0"
    cases = {
        "invalid-object": (bad_cidr, "NetworkPolicy acme/lb: spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR "
                                     "'203.0.113.0/33'"),
        "openapi-schema": (misspelt, "NetworkPolicy acme/lb: spec: Additional properties are not allowed "
                                     "('policyType' was unexpected) (Kubernetes 1.32)"),
        "open-world-ingress": (open_world, "open-world-ingress NetworkPolicy acme/lb: spec.ingress[0] admits "
                                           "0.0.0.0/0 into pods that are not frontends (podSelector {} does not "
                                           "require app.kubernetes.io/component=frontend)"),
    }
    for name, (obj, message) in cases.items():
        reports = Reports()
        policy(name).validate(resource_args(np_type, "acme/lb", obj), reports)
        assert reports == [(message, None)], name


def test_kubernetes_props_become_the_manifest_that_is_sent():
    props = {"metadata": {"name": "acme", "uid": UNKNOWN_STRING_VALUE, "labels": {"tenancy/tenant": "acme"}},
             "status": {"phase": UNKNOWN_STRING_VALUE}, "spec": {"finalizers": ["kubernetes"], "n": 3.0}}
    # Server-set fields are unknown during preview and never read; the rest comes back as plain data.
    assert pack.manifest("kubernetes:core/v1:Namespace", unknown_checking_proxy(props)) == {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "acme", "labels": {"tenancy/tenant": "acme"}},
        "spec": {"finalizers": ["kubernetes"], "n": 3}}
    assert pack.manifest("kubernetes:networking.k8s.io/v1:NetworkPolicy", {})["apiVersion"] == "networking.k8s.io/v1"
    assert pack.manifest("tenancy:index:Tenant", {"x": 1}) is None
    assert pack.manifest("pulumi:providers:kubernetes", {}) is None
    # An unknown value the checks would need is not guessed at: Pulumi reports the policy as not runnable yet.
    with pytest.raises(UnknownValueError):
        pack.manifest("kubernetes:core/v1:Namespace", unknown_checking_proxy({"metadata": {"name": UNKNOWN_STRING_VALUE}}))


def test_stack_policy_is_clean_on_the_dev_stack(dev, stack_config):
    reports = Reports()
    policy(pack.STACK_POLICY).validate(stack_args(dev.recording.resources), reports)
    assert reports == []


def test_stack_policy_reports_the_shared_checkers_violations_on_their_resource(dev, stack_config):
    # The namespace policies alone (dev's admin tier would stop the egress below), minus acme's default deny.
    resources = [r for r in dev.recording.resources if not (r.type.endswith(":NetworkPolicy")
                                                           and r.name == "acme/default-deny")
                 and not r.type.startswith("kubernetes:policy.networking.k8s.io/")]
    extra = copy.deepcopy(next(r for r in dev.recording.resources if r.name == "acme/allow-dns-egress"))
    extra.name = "acme/everything-out"
    extra.inputs["metadata"] = {"name": "everything-out", "namespace": "acme"}
    extra.inputs["spec"] = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}
    reports = Reports()
    policy(pack.STACK_POLICY).validate(stack_args([*resources, extra]), reports)
    # Exactly invariants.check's lines for the same objects and config (minus the rule checked per object).
    expected = check([r.inputs for r in [*resources, extra] if r.type.startswith("kubernetes:")], dev.parsed.config,
                     [r for r in pack.RULES if r not in pack.PER_OBJECT_RULES])
    assert [m for m, _ in reports] == [str(v) for v in expected]
    assert {v.rule for v in expected} == {"tenant-default-deny", "egress-via-proxy", "tenant-authored-widening"}
    by_message = dict(reports)
    deny = next(m for m in by_message if m.startswith("tenant-default-deny Namespace acme:"))
    assert by_message[deny] == urn("kubernetes:core/v1:Namespace", "acme")
    widening = next(m for m in by_message if m.startswith("tenant-authored-widening"))
    assert by_message[widening] == urn("kubernetes:networking.k8s.io/v1:NetworkPolicy", "acme/everything-out")
    flow = next(m for m in by_message if m.startswith("egress-via-proxy"))
    assert by_message[flow] is None  # a flow is the stack's, not one resource's


def test_the_stack_policy_judges_what_pulumi_applies_which_tenants_admission_does_not_restrict(dev, stack_config):
    # An allow-all ingress in the program itself: `pulumi up` would apply it as the platform, so the admission
    # policy that refuses it to tenants (and makes `check` leave a tenant's proposal out) changes nothing here.
    extra = copy.deepcopy(next(r for r in dev.recording.resources if r.name == "acme/allow-dns-egress"))
    extra.name = "acme/everything-in"
    extra.inputs["metadata"] = {"name": "everything-in", "namespace": "acme"}
    extra.inputs["spec"] = {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}
    resources = [*dev.recording.resources, extra]
    assert any(r.type.endswith(":ValidatingAdmissionPolicy") for r in resources)
    reports = Reports()
    policy(pack.STACK_POLICY).validate(stack_args(resources), reports)
    widening = [m for m, _ in reports if m.startswith("tenant-authored-widening NetworkPolicy acme/everything-in:")]
    assert widening and "frontend-external-ingress" in {m.split(" ")[0] for m, _ in reports}
    manifests = [r.inputs for r in resources if r.type.startswith("kubernetes:")]
    assert not [v for v in check(manifests, dev.parsed.config) if v.rule == "frontend-external-ingress"]


def test_without_the_stacks_config_the_stack_policy_reads_the_programs_labels(dev, no_stack_config):
    assert pack.stack_config() is None
    resources = [r for r in dev.recording.resources if r.name != "globex/allow-dns-egress"]
    reports = Reports()
    policy(pack.STACK_POLICY).validate(stack_args(resources), reports)
    assert {m.split(" ", 1)[0] for m, _ in reports} == {"dns-reachable"}


def test_the_pack_is_every_policy_mandatory(monkeypatch):
    built = {}

    def fake_pack(**kwargs):  # the real one starts a gRPC server for the engine and never returns
        built.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    runpy.run_path(str(REPO_ROOT / "guardrails" / "__main__.py"), run_name="__main__")
    assert built["name"] == pack.PACK_NAME
    assert built["enforcement_level"] == EnforcementLevel.MANDATORY
    assert [p.name for p in built["policies"]] == ["invalid-object", "openapi-schema", "open-world-ingress",
                                                   pack.STACK_POLICY]
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in built["policies"])
