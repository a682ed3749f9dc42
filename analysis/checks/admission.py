"""What the cluster's admission refuses to a tenant: the program's ValidatingAdmissionPolicy for tenants'
NetworkPolicies (policies/tenant_admission.py), read from the manifests themselves, its CEL validations evaluated
by cel-python (`kube.customresources.evaluate_rule`) on each NetworkPolicy the program did not render.

    admission = Admission.of(manifests, tenant_authored)
    admission.refusal(obj)        # Refusal(...) when the API server would refuse `obj` to a tenant, else None

Which objects count: a NetworkPolicy in a namespace the policy's binding selects (by the labels of the Namespace
objects in the input; a namespace not in the input is selected by nothing). The requester is a tenant, i.e. one
who may not create cluster policies: the match condition the program writes is true for exactly those, and a
policy with any other match condition, parameters, variables or object selector is not modelled (it refuses
nothing here). A validation that fails to evaluate refuses too, as `failurePolicy: Fail` makes the API server do.

Whether an object is a *proposal* or *exists* decides what `check` does with a refusal: an object without the
metadata only the API server writes (`uid`, `resourceVersion`, `creationTimestamp`, ...: `kube.serverside`) is a
manifest that has yet to be applied, which a tenant could not apply; an object with it is in the cluster (created
before the policy, or by someone who may write cluster policies) and stays in every verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from analysis.reachability.selectors import parse_selector
from kube.customresources import RuleError, evaluate_rule
from kube.labels import NAMESPACE_NAME
from kube.serverside import SERVER_METADATA
from policies.tenant_admission import API_VERSION, AUTHORITY, BINDING_KIND, POLICY_KIND, platform_condition

_TENANT_CONDITIONS = frozenset(platform_condition(api) for api in AUTHORITY)


@dataclass(frozen=True)
class Refusal:
    policy: str  # the ValidatingAdmissionPolicy's name
    index: int  # of the failing validation
    message: str

    def __str__(self) -> str:
        return f"ValidatingAdmissionPolicy/{self.policy} validations[{self.index}]: {self.message}"


def exists(obj: dict) -> bool:
    """The object was read from a cluster: it carries a field only the API server sets."""
    metadata = obj.get("metadata") or {}
    return any(metadata.get(key) for key in SERVER_METADATA)


@dataclass(frozen=True)
class _Policy:
    name: str
    namespaces: Callable[[dict[str, str]], bool]  # on the labels of the NetworkPolicy's namespace
    validations: tuple[tuple[str, str], ...]  # (expression, message)


def _covers_network_policies(spec: dict) -> bool:
    for rule in (spec.get("matchConstraints") or {}).get("resourceRules") or []:
        if (set(rule.get("apiGroups") or []) & {"networking.k8s.io", "*"}
                and set(rule.get("resources") or []) & {"networkpolicies", "*"}
                and set(rule.get("operations") or []) & {"CREATE", "*"}):
            return True
    return False


def _modelled(spec: dict) -> bool:
    conditions = {c.get("expression") for c in spec.get("matchConditions") or []}
    constraints = spec.get("matchConstraints") or {}
    return (conditions <= _TENANT_CONDITIONS and not spec.get("paramKind") and not spec.get("variables")
            and not constraints.get("objectSelector") and _covers_network_policies(spec))


def _selector(obj: Any) -> Callable[[dict[str, str]], bool]:
    if obj is None:
        return lambda labels: True
    problems: list[str] = []
    selector = parse_selector(obj, "namespaceSelector", problems)
    return (lambda labels: False) if problems else selector.matches


class Admission:
    def __init__(self, policies: list[_Policy], namespace_labels: dict[str, dict[str, str]],
                 tenant_authored: Callable[[dict], bool]):
        self.policies, self.namespace_labels, self.tenant_authored = policies, namespace_labels, tenant_authored

    @classmethod
    def of(cls, manifests: Iterable[dict], tenant_authored: Callable[[dict], bool]) -> Admission:
        specs: dict[str, dict] = {}
        bindings: list[dict] = []
        labels: dict[str, dict[str, str]] = {}
        for obj in manifests:
            kind, metadata = obj.get("kind"), obj.get("metadata") or {}
            name = str(metadata.get("name", ""))
            if kind == "Namespace":
                # The API server labels every namespace with its name.
                labels[name] = {**(metadata.get("labels") or {}), NAMESPACE_NAME: name}
            elif obj.get("apiVersion") == API_VERSION and kind == POLICY_KIND:
                specs[name] = obj.get("spec") or {}
            elif obj.get("apiVersion") == API_VERSION and kind == BINDING_KIND:
                bindings.append(obj.get("spec") or {})
        policies = []
        for binding in bindings:
            spec = specs.get(str(binding.get("policyName", "")))
            if spec is None or "Deny" not in (binding.get("validationActions") or []) or not _modelled(spec):
                continue
            if (binding.get("matchResources") or {}).get("objectSelector") or binding.get("paramRef"):
                continue
            by_binding = _selector((binding.get("matchResources") or {}).get("namespaceSelector"))
            by_policy = _selector((spec.get("matchConstraints") or {}).get("namespaceSelector"))
            validations = tuple((v.get("expression", ""), v.get("message") or f"failed expression: "
                                 f"{v.get('expression', '')}") for v in spec.get("validations") or [])
            policies.append(_Policy(binding["policyName"],
                                    lambda ls, a=by_binding, b=by_policy: a(ls) and b(ls),  # type: ignore[misc]
                                    validations))
        return cls(policies, labels, tenant_authored)

    def __bool__(self) -> bool:
        return bool(self.policies)

    def refusal(self, obj: dict) -> Refusal | None:
        """Why the API server would refuse `obj` to a tenant, or None (admitted, or not the tenant's to write)."""
        if not self.policies or obj.get("kind") != "NetworkPolicy" or not self.tenant_authored(obj):
            return None
        labels = self.namespace_labels.get(str((obj.get("metadata") or {}).get("namespace", "")))
        if labels is None:
            return None
        for policy in self.policies:
            if not policy.namespaces(labels):
                continue
            for index, (expression, message) in enumerate(policy.validations):
                if not _holds(expression, obj):
                    return Refusal(policy.name, index, message)
        return None


def _holds(expression: str, obj: dict) -> bool:
    try:
        return evaluate_rule(expression, obj, variable="object")
    except RuleError:
        return False
