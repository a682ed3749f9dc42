"""The pack's policies. Every check is a function `tenancy check` runs too; nothing is re-implemented here.

Resource policies (each Kubernetes object the stack creates, as it is sent):
- `invalid-object`: what the API server would reject (`analysis.checks.validation.object_problems`);
- `openapi-schema`: the upstream OpenAPI schema of `cluster.kubernetesVersion`, strict (`analysis.checks.validation.schema_problem`);
- `open-world-ingress`: no NetworkPolicy admits 0.0.0.0/0, ::/0 or every source into non-frontend pods
  (`analysis.checks.invariants.open_world`).
Stack policy (all of them together):
- `tenancy-invariants`: `analysis.checks.invariants.check` over every Kubernetes resource of the stack, with the intent of the
  stack's `tenancy:*` config when the Pulumi CLI hands it to the pack, else read from the program's labels.

All are mandatory: a violation fails `pulumi preview` and stops `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from analysis.checks.invariants import RULES, check, open_world
from analysis.checks.validation import RULES as VALIDATION_RULES
from analysis.checks.validation import object_problems, object_subject, resolve_version, schema_problem
from analysis.reachability import ManifestError, load_objects
from stackconfig import ConfigError, StackConfig, parse_config
from stackconfig.models import ClusterConfig
from stackconfig.pulumi_values import config_values  # the program's own reading, not a copy of it

PACK_NAME = "tenancy-guardrails"
STACK_POLICY = "tenancy-invariants"
# Checked object by object by the resource policies; the stack policy leaves them out so nothing is said twice.
PER_OBJECT_RULES = ("open-world-ingress",)
# Set by the API server, not sent by the program; unknown during preview.
SERVER_SET_METADATA = frozenset({"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                                 "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"})


def _plain(value: Any, skip: frozenset[str] = frozenset()) -> Any:
    """Pulumi's read-only proxies to plain dicts and lists; numbers travel as doubles, so integral ones become
    ints again (a port of 5432.0 is not an integer port)."""
    if isinstance(value, Mapping):
        return {key: _plain(value[key]) for key in value if key not in skip}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def manifest(resource_type: str, props: Mapping[str, Any]) -> dict | None:
    """The Kubernetes object a pulumi-kubernetes resource stands for, or None for any other resource.

    `kubernetes:networking.k8s.io/v1:NetworkPolicy` -> apiVersion `networking.k8s.io/v1`; `kubernetes:core/v1:...`
    -> `v1`. `status` and server-set metadata are dropped: the program never sends them."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    group, _, version = parts[1].rpartition("/")
    obj: dict[str, Any] = {}
    for key in props:
        if key in ("status", "__inputs"):
            continue
        obj[key] = _plain(props[key], SERVER_SET_METADATA if key == "metadata" else frozenset())
    obj.setdefault("apiVersion", version if group in ("core", "") else f"{group}/{version}")
    obj.setdefault("kind", parts[2])
    return obj


def stack_config() -> StackConfig | None:
    """The stack's `tenancy:*` config as the Pulumi CLI passes it to policy packs (PULUMI_CONFIG), read exactly as
    the program reads it; None when there is none or it is invalid (the program itself then refuses to run)."""
    values = config_values()
    if not values:
        return None
    try:
        return parse_config(values).config
    except ConfigError:
        return None


def _kubernetes_version() -> str:
    config = stack_config()
    return config.cluster.kubernetes_version if config else ClusterConfig.model_fields["kubernetes_version"].default


# ---------------------------------------------------------------------------------------------------- resources


def validate_object(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    obj = manifest(args.resource_type, args.props)
    if obj is None:
        return
    for problem in object_problems(obj):
        report_violation(f"{object_subject(obj)}: {problem}", None)


def validate_schema(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    obj = manifest(args.resource_type, args.props)
    if obj is None:
        return
    version, _ = resolve_version(_kubernetes_version())
    problem, _ = schema_problem(obj, version)
    if problem:
        report_violation(f"{object_subject(obj)}: {problem} (Kubernetes {version})", None)


def validate_open_world(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    obj = manifest(args.resource_type, args.props)
    if obj is None or obj.get("kind") != "NetworkPolicy":
        return
    try:
        policies = load_objects([obj]).policies
    except ManifestError:
        return  # invalid-object reports it
    for policy in policies:
        for violation in open_world(policy):
            report_violation(str(violation), None)


# ---------------------------------------------------------------------------------------------------- stack


def _urn_of(subject: str, objects: list[tuple[dict, str]]) -> str | None:
    for obj, urn in objects:
        if object_subject(obj) == subject:
            return urn
    return None  # a flow: it belongs to the stack, not to one resource


def validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    objects = []
    for resource in args.resources:
        obj = manifest(resource.resource_type, resource.props)
        if obj is not None:
            objects.append((obj, resource.urn))
    rules = [r for r in RULES if r not in PER_OBJECT_RULES]
    try:
        # Pulumi applies every object as the platform, whom the admission policy for tenants does not restrict.
        violations = check([o for o, _ in objects], stack_config(), rules, by_tenants=False)
    except ManifestError as exc:
        for problem in exc.problems:
            report_violation(f"cannot analyse the stack's objects: {problem}", None)
        return
    for violation in violations:
        report_violation(str(violation), _urn_of(violation.subject, objects))


POLICIES = [
    ResourceValidationPolicy(
        name="invalid-object", description=VALIDATION_RULES["invalid-object"],
        enforcement_level=EnforcementLevel.MANDATORY, validate=validate_object),
    ResourceValidationPolicy(
        name="openapi-schema", description=VALIDATION_RULES["openapi-schema"],
        enforcement_level=EnforcementLevel.MANDATORY, validate=validate_schema),
    ResourceValidationPolicy(
        name="open-world-ingress", description=RULES["open-world-ingress"],
        enforcement_level=EnforcementLevel.MANDATORY, validate=validate_open_world),
    StackValidationPolicy(
        name=STACK_POLICY,
        description="the zero-trust invariants of `tenancy check` over the stack's Kubernetes resources: " + ", ".join(
            rule for rule in RULES if rule not in PER_OBJECT_RULES),
        enforcement_level=EnforcementLevel.MANDATORY, validate=validate_stack),
]
