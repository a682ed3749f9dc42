"""The invariants `tenancy check` and the CrossGuard pack enforce, as one pure function (no Pulumi import).

    from analysis.checks.invariants import check
    violations = check(manifests, config)      # config: a StackConfig, or None for the tenant-agnostic reading
    for v in violations: print(v)              # "<rule> <subject>: <why>", sorted

`manifests` are Kubernetes objects as dicts (a render, a cluster export); unreadable ones raise
`analysis.reachability.ManifestError` with one located line per problem. `RULES` maps each stable rule id to what it
proves. See `analysis.checks.invariants.facts` for how intent is read with and without a stack config.
"""

from __future__ import annotations

from typing import Iterable

from stackconfig.models import StackConfig

from .facts import Facts
from .rules import REGISTRY, RULES, open_world, tenant_authored_attempts
from ..violation import Violation

__all__ = ["RULES", "Facts", "Violation", "check", "open_world"]


def check(manifests: list[dict], config: StackConfig | None = None, rules: Iterable[str] | None = None,
          notes: list[str] | None = None, by_tenants: bool = True) -> list[Violation]:
    """Every violation of the invariants (or of the `rules` named) by `manifests`, sorted and without repeats.

    With `notes`, lines that are not violations are appended to it: what a tenant's NetworkPolicy tried to open
    that a cluster policy or the admission policy stops (`tenant-authored-widening`, when that rule is asked for).
    `by_tenants`: NetworkPolicies the program did not render that are yet to be applied would be applied by a
    tenant, so the admission policy in `manifests` decides whether they can be; False when the platform applies
    everything (a `pulumi preview` the guardrails pack judges), which admission does not restrict."""
    wanted = list(RULES) if rules is None else list(rules)
    unknown = [r for r in wanted if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule id(s): {', '.join(unknown)} (known: {', '.join(RULES)})")
    facts = Facts(manifests, config, by_tenants=by_tenants)
    found: set[Violation] = set()
    for rule in wanted:
        found.update(REGISTRY[rule].violations(facts))
    if notes is not None and "tenant-authored-widening" in wanted:
        notes.extend(tenant_authored_attempts(facts))
    return sorted(found)
