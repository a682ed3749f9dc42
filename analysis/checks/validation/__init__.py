"""Apiserver-grade validation of Kubernetes objects: what the API server would reject (`apiserver`) and what the
upstream OpenAPI schema of the target version rejects (`schema`, via kubernetes-validate, strict); cluster policies
of network-policy-api (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) by their own CRDs
(`kube.customresources`).

    from analysis.checks.validation import validate
    violations, notes = validate(manifests, "1.32")

Findings are `analysis.checks.violation.Violation`s with rule `invalid-object` or `openapi-schema`; notes say what could not be
validated (kinds without a schema, an unshipped Kubernetes version) and belong on stderr.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Sequence

from analysis.checks.violation import Violation
from kube import customresources

from .apiserver import extra_problems, loader_problems, object_problems
from .schema import FAST_FROM, resolve_version, schema_problem, shipped_versions

__all__ = [
    "RULES", "extra_problems", "loader_problems", "object_problems", "object_subject", "resolve_version",
    "schema_problem", "shipped_versions", "validate",
]

RULES: dict[str, str] = {
    "invalid-object": "the Kubernetes API server would reject the object (names, labels, selectors, CIDRs, ports, "
                      "policy types, Service and workload fields)",
    "openapi-schema": "the object conforms to the upstream OpenAPI schema of cluster.kubernetesVersion, "
                      "unknown fields included (kubernetes-validate, strict); a policy.networking.k8s.io cluster "
                      "policy to its CRD's schema and CEL rules (kube/crds, as the API server checks them)",
}


def object_subject(obj: Any) -> str:
    """`Kind namespace/name`, or `Kind name` for objects without a namespace."""
    if not isinstance(obj, dict):
        return f"({type(obj).__name__})"
    meta = metadata if isinstance(metadata := obj.get("metadata"), dict) else {}
    kind, name, ns = obj.get("kind") or "object", meta.get("name") or "(unnamed)", meta.get("namespace")
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def validate(manifests: Sequence[Any], kubernetes_version: str = "1.32", locations: Sequence[str] | None = None,
             schema: bool = True, progress: Callable[[], None] | None = None,
             loaded: bool = False) -> tuple[list[Violation], list[str]]:
    """Violations of every object (sorted, without repeats), and notes. `locations[i]` ("file doc n") is added to
    object i's findings so a user can find it; `progress` is called after each object. `loaded`: the objects are
    those of one manifest load that reported no problem, so the loader has nothing to say about any of them and
    is not asked again object by object (a tenth of `check` at scale)."""
    version, note = resolve_version(kubernetes_version)
    notes = [note] if note and schema else []
    found: set[Violation] = set()
    kinds = Counter((o.get("apiVersion"), o.get("kind")) for o in manifests if isinstance(o, dict))
    for i, obj in enumerate(manifests):
        at = f" ({locations[i]})" if locations is not None else ""
        subject = object_subject(obj)
        refused = extra_problems(obj) if loaded else object_problems(obj)
        for problem in refused:
            found.add(Violation("invalid-object", subject, problem + at))
        if customresources.is_custom_resource(obj):
            # Its CRD, not kubernetes-validate (which has no schema for it). Refused: what no channel of the CRDs
            # accepts (the loader refuses the same, so it is said once); noted: what needs the experimental one.
            release = customresources.release(obj)
            wrong = customresources.problems(obj, customresources.EXPERIMENTAL)
            for problem in wrong:
                if problem not in refused:
                    found.add(Violation("openapi-schema", subject, f"{problem} ({release}){at}"))
            beyond = [] if wrong else customresources.problems(obj, customresources.STANDARD)
            if beyond:
                notes.append(f"{subject}{at}: needs network-policy-api's experimental-channel CRDs ({beyond[0]})")
        elif schema and isinstance(obj, dict):
            mismatch, skipped = schema_problem(obj, version, kinds[(obj.get("apiVersion"), obj.get("kind"))] >= FAST_FROM)
            if mismatch:
                found.add(Violation("openapi-schema", subject, f"{mismatch} (Kubernetes {version}){at}"))
            if skipped and skipped not in notes:
                notes.append(f"{skipped}; not schema-validated")
        if progress is not None:
            progress()
    return sorted(found), notes
