"""Plain-text rendering of a `Verdict`: the decision, then the egress side and the ingress side."""

from __future__ import annotations

from .verdict import Side, Verdict


def _side_lines(side: Side, verdict: Verdict) -> list[str]:
    title = "egress" if side.direction == "egress" else "ingress"
    who = f"leaving {side.endpoint}" if side.direction == "egress" else f"entering {side.endpoint}"
    lines = []
    if side.external:
        lines.append(f"{title} ({who}): allowed - {side.endpoint} is an external address, "
                     f"no NetworkPolicy applies to it")
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


def _miss_text(miss, side: Side) -> str:
    if miss.rule is None:
        return f"policy {miss.policy} selects {side.endpoint} but has no {miss.direction} rules (it only isolates)"
    field = "from" if miss.direction == "ingress" else "to"
    peer = f" {field}[{miss.peer}]" if miss.peer is not None else ""
    return (f"policy {miss.policy} selects {side.endpoint}, its {miss.direction} rule {miss.rule}{peer} admits "
            f"{miss.admits}; " + "; ".join(miss.reasons))


def render_verdict(v: Verdict) -> str:
    decision = "ALLOWED" if v.allowed else "DENIED"
    why = ""
    if not v.allowed:
        sides = [s.direction for s in (v.egress, v.ingress) if not s.allowed]
        why = f" (denied on {' and '.join(sides)})"
    lines = [f"{v.src} -> {v.dst} on {v.port}/{v.protocol}: {decision}{why}",
             "a connection needs egress from the source AND ingress to the destination"]
    lines += _side_lines(v.egress, v)
    lines += _side_lines(v.ingress, v)
    return "\n".join(lines)
