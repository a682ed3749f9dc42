"""Plain-text rendering of a `Verdict`: the decision, then the egress side and the ingress side."""

from __future__ import annotations

from .direction import Direction
from .verdict import Miss, Side, Verdict


_TIER_TEXT = {
    "admin": "the Admin tier (cluster policy; final)",
    "networkpolicy": "NetworkPolicy",
    "baseline": "the Baseline tier (cluster policy)",
    "default": "the default (no tier decides: allowed)",
}


def _tiered_side_lines(side: Side, verdict: Verdict, title: str, who: str) -> list[str]:
    """A side where cluster policies select the endpoint: each tier in the API's order, up to the deciding one."""
    state = "allowed" if side.allowed else "DENIED"
    tier = side.decided_by
    lines = [f"{title} ({who}): {state} - decided by {_TIER_TEXT[tier]}"]
    if side.admin_policies:
        lines.append(f"  Admin tier: selects {side.endpoint}: {', '.join(side.admin_policies)}")
        rule = side.admin_rule
        if rule is None:
            lines.append("  Admin tier: no rule matches this flow; NetworkPolicy is next")
        elif rule.final:
            lines.append(f"  decided by {rule}")
        else:
            lines.append(f"  passed by {rule}: the rest of the Admin tier is skipped, NetworkPolicy is next")
    else:
        lines.append(f"  Admin tier: no cluster policy selects {side.endpoint} for {title}")
    if tier == "admin":
        lines.append("  NetworkPolicy and the Baseline tier are not consulted")
    else:
        np = _np_lines(side, verdict, title)
        lines += ["  NetworkPolicy: " + np[0]] + np[1:]
        if tier != "networkpolicy":
            if side.baseline_policies:
                lines.append(f"  Baseline tier: selects {side.endpoint}: {', '.join(side.baseline_policies)}")
                rule = side.baseline_rule
                if rule is None:
                    lines.append("  Baseline tier: no rule matches this flow; the default applies (allowed)")
                elif rule.final:
                    lines.append(f"  decided by {rule}")
                else:
                    lines.append(f"  passed by {rule}: the default applies (allowed)")
            else:
                lines.append(f"  Baseline tier: no cluster policy selects {side.endpoint} for {title}; "
                             "the default applies (allowed)")
    lines += [f"  warning: {t}" for t in side.ties]
    return lines


def _np_lines(side: Side, verdict: Verdict, title: str) -> list[str]:
    """The NetworkPolicy part of a side whose cluster tiers did not decide, first line without a prefix."""
    if not side.isolated:
        return [f"no NetworkPolicy selects {side.endpoint} for {title}, so it is not isolated and does not decide"]
    n = len(side.selecting_policies)
    lines = [f"{side.endpoint} is isolated by {n} polic{'y' if n == 1 else 'ies'}"]
    lines += [f"  selects {side.endpoint}: {p}" for p in side.selecting_policies]
    if side.admitted_by is not None:
        lines.append(f"  admitted by {side.admitted_by}")
        lines += [f"  also admitted by {other}" for other in side.admitting[1:]]
        return lines
    lines.append(f"  no rule of these policies admits {verdict.src} -> {verdict.dst} on "
                 f"{verdict.port}/{verdict.protocol}")
    if side.misses:
        lines.append(f"  closest miss: {_miss_text(side.misses[0], side)}")
        lines += [f"  also misses: {_miss_text(m, side)}" for m in side.misses[1:]]
    return lines


def _side_lines(side: Side, verdict: Verdict) -> list[str]:
    title = side.direction.value
    who = f"leaving {side.endpoint}" if side.direction is Direction.EGRESS else f"entering {side.endpoint}"
    if side.admin_policies or side.baseline_policies:
        return _tiered_side_lines(side, verdict, title, who)
    lines = []
    if side.external:
        lines.append(f"{title} ({who}): allowed - {side.endpoint} is an external address, "
                     f"no NetworkPolicy applies to it")
        return lines
    if side.host_network:
        lines.append(f"{title} ({who}): allowed - {side.endpoint} runs with hostNetwork; NetworkPolicy does not "
                     f"apply to it, so it is never isolated (its traffic carries its node's address)")
        return lines
    if not side.isolated:
        lines.append(f"{title} ({who}): allowed - no NetworkPolicy selects {side.endpoint} for {title}, "
                     f"so it is not isolated in this direction")
        return lines
    state = "allowed" if side.allowed else "DENIED"
    lines.append(f"{title} ({who}): {state} - isolated by {len(side.selecting_policies)} "
                 f"polic{'y' if len(side.selecting_policies) == 1 else 'ies'}")
    for p in side.selecting_policies:
        lines.append(f"  selects {side.endpoint}: {p}")
    if side.allowed:
        lines.append(f"  admitted by {side.admitted_by}")
        for other in side.admitting[1:]:
            lines.append(f"  also admitted by {other}")
        return lines
    lines.append(f"  no rule of these policies admits {verdict.src} -> {verdict.dst} on {verdict.port}/{verdict.protocol}")
    if side.misses:
        best = side.misses[0]
        lines.append(f"  closest miss: {_miss_text(best, side)}")
        for m in side.misses[1:]:
            lines.append(f"  also misses: {_miss_text(m, side)}")
    return lines


def _miss_text(miss: Miss, side: Side) -> str:
    if miss.rule is None:
        return f"policy {miss.policy} selects {side.endpoint} but has no {miss.direction} rules (it only isolates)"
    peer = f" {miss.direction.peer_field}[{miss.peer}]" if miss.peer is not None else ""
    return (f"policy {miss.policy} selects {side.endpoint}, its {miss.direction} rule {miss.rule}{peer} admits "
            f"{miss.admits}; " + "; ".join(miss.reasons))


def verdict_text(v: Verdict) -> str:
    decision = "ALLOWED" if v.allowed else "DENIED"
    why = ""
    if not v.allowed:
        sides = [s.direction for s in (v.egress, v.ingress) if not s.allowed]
        why = f" (denied on {' and '.join(sides)})"
    lines = [f"{v.src} -> {v.dst} on {v.port}/{v.protocol}: {decision}{why}",
             "a connection needs egress from the source AND ingress to the destination"]
    if any(s.admin_policies or s.baseline_policies for s in (v.egress, v.ingress)):
        lines.append("each side is decided by the first tier that decides: Admin cluster policies, then "
                     "NetworkPolicy (for an isolated endpoint), then Baseline cluster policies, then allow")
    lines += _side_lines(v.egress, v)
    lines += _side_lines(v.ingress, v)
    return "\n".join(lines)
