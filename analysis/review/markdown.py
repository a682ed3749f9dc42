"""The review as a pull-request comment: headline, flows by namespace with warnings, resources, unchanged context and
a focused Mermaid graph, all within a size budget shared by every section of the comment.

Plain text only (no ANSI: the output is posted, not printed to a terminal) and deterministic: the same review
always gives the same bytes, so an edited comment only changes when the change does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterator, Protocol, Sequence

from analysis.review.diff import FlowChange, ResourceChange
from analysis.reachability.graph import mermaid

from .summary import Review, counted, headline
from .warnings import ReviewWarning, is_external, namespace_of

# GitHub refuses comment bodies over 65,536 characters; the workflow adds a marker and a footer, so stay well under.
BUDGET = 60_000
MARK = "⚠️"
# Trimming steps, least important first (see `fit`).
OPTIONAL = (("graph", "flow graph"), ("resources", "resource list"), ("context", "unchanged flows"))
FLOW_LIMITS = (1000, 500, 300, 200, 100, 50, 20, 10, 5, 0)
WARNING_LIMITS = (50, 20, 5, 0)
CLUSTER_GROUP = "(cluster-scoped)"
OUTSIDE_GROUP = "(outside the cluster)"


def size(text: str) -> int:
    """Length as GitHub (JavaScript) counts it, in UTF-16 code units: never less than len()."""
    return len(text.encode("utf-16-le")) // 2


def code(text: str) -> str:
    if "`" not in text:
        return f"`{text}`"
    fence = "`" * (max(len(m) for m in re.findall(r"`+", text)) + 1)
    return f"{fence} {text} {fence}"


def fenced(text: str, lang: str = "") -> str:
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


@dataclass(frozen=True)
class Trim:
    """How much of a section to show; the default shows everything."""

    graph: bool = True
    resources: bool = True
    context: bool = True
    flows: int | None = None  # at most this many rows per flow list
    warnings: int | None = None  # at most this many resource warnings


class Section(Protocol):
    title: str

    def markdown(self, trim: Trim) -> str: ...

    def steps(self) -> Iterator[Trim]: ...

    def cuts(self, trim: Trim) -> list[str]: ...


# ---------------------------------------------------------------------------------------------------- flows

def _flow_group(c: FlowChange) -> str:
    # A flow belongs to the namespace it enters; egress to the outside belongs to the namespace it leaves.
    return namespace_of(c.dst) or namespace_of(c.src) or OUTSIDE_GROUP


def _flow_row(c: FlowChange, opened: bool, warnings: Sequence[ReviewWarning]) -> str:
    mark = f"{MARK} " if warnings else ""
    line = f"- {mark}{code(c.src)} → {code(c.dst)}: {code(str(c.ports))}"
    if opened and c.before:
        line += f" (was {code(str(c.before))}, now {code(str(c.after))})"
    elif not opened and c.after:
        line += f" (still {code(str(c.after))})"
    if warnings:
        line += " — " + "; ".join(w.message for w in warnings)
    return line


def _flow_list(title: str, changes: list[FlowChange], opened: bool, r: Review, limit: int | None) -> list[str]:
    if not changes:
        return []

    def warned(c: FlowChange) -> bool:
        return opened and bool(r.flow_warnings.get((c.src, c.dst)))

    groups: dict[str, list[FlowChange]] = {}
    for c in changes:
        groups.setdefault(_flow_group(c), []).append(c)
    for rows in groups.values():
        rows.sort(key=lambda c: (not warned(c), c.src, c.dst))
    kept = {id(c) for rows in groups.values() for c in rows}
    if limit is not None and len(changes) > limit:
        # Warned flows first, then a few of every namespace before more of any one: a cut list still shows
        # every risk it can and where the change lands.
        ranked = sorted(((not warned(c), i, g) for g, rows in groups.items() for i, c in enumerate(rows)))
        kept = {id(groups[g][i]) for _, i, g in ranked[:limit]}
    out = [f"#### {title} ({len(changes)})"]
    unseen = unseen_warned = unseen_groups = 0
    for g in sorted(groups):
        rows = groups[g]
        shown = [c for c in rows if id(c) in kept]
        if not shown:
            unseen += len(rows)
            unseen_warned += sum(map(warned, rows))
            unseen_groups += 1
            continue
        out += ["", f"**{g}**", ""]
        out += [_flow_row(c, opened, r.flow_warnings.get((c.src, c.dst), ()) if opened else ()) for c in shown]
        if len(shown) < len(rows):
            hidden = [c for c in rows if id(c) not in kept]
            out.append(f"- … and {len(hidden)} more{_with_warnings(sum(map(warned, hidden)))}")
    if unseen:
        where = f" in {counted(unseen_groups, 'other namespace')}" if len(kept) else ""
        out += ["", f"… and {unseen} more{where}{_with_warnings(unseen_warned)}"]
    return out + [""]


def _with_warnings(n: int) -> str:
    return f" ({n} with warnings)" if n else ""


# ---------------------------------------------------------------------------------------------------- resources

_RESOURCE_MARKS = (("➕", "added"), ("➖", "removed"), ("✏️", "changed"))


def _resource_summary(r: Review) -> str:
    d = r.diff
    return f"Resources: +{len(d.added)} added, -{len(d.removed)} removed, ~{len(d.changed)} changed"


def _resources(r: Review) -> list[str]:
    d = r.diff
    groups: dict[str, list[tuple[int, ResourceChange]]] = {}
    for rank, (_, attr) in enumerate(_RESOURCE_MARKS):
        for rc in getattr(d, attr):
            groups.setdefault(rc.namespace or CLUSTER_GROUP, []).append((rank, rc))
    out = [f"<details><summary>{_resource_summary(r)}</summary>", ""]
    # Cluster-scoped objects (namespaces) first, as they are applied first.
    for group in sorted(groups, key=lambda g: (g != CLUSTER_GROUP, g)):
        out += [f"**{group}**", ""]
        for rank, rc in sorted(groups[group], key=lambda x: (x[0], x[1].kind, x[1].name)):
            out.append(f"- {_RESOURCE_MARKS[rank][0]} {rc.kind} {code(rc.name)}")
            out += [f"  - {code(f)}" for f in rc.fields]
        out.append("")
    return out + ["</details>", ""]


# ---------------------------------------------------------------------------------------------------- context, graph

def _context(r: Review) -> list[str]:
    rows = r.context()
    out = [f"<details><summary>Unchanged flows of the affected namespaces ({len(rows)})</summary>", ""]
    out += [f"- {code(s)} → {code(d)}: {code(str(p))}" for s, d, p in rows]
    return out + ["", "</details>", ""]


def _graph(r: Review) -> list[str]:
    affected = set(r.affected)
    before, after = r.diff.flows_before, r.diff.flows_after

    def shown(endpoint: str) -> bool:
        return is_external(endpoint) or namespace_of(endpoint) in affected

    edges = []
    for s, d in sorted(set(before) | set(after)):
        if not (shown(s) and shown(d)) or is_external(s) and is_external(d):
            continue
        was, now = before.get((s, d)), after.get((s, d))
        if was == now:
            edges.append((s, d, str(now), "-->"))
            continue
        gained = (now - was) if now and was else now
        lost = (was - now) if now and was else was
        if not now:
            edges.append((s, d, f"closed: {was}", "-.->"))
        elif not was:
            edges.append((s, d, f"opened: {now}", "==>"))
        else:
            change = ", ".join(x for x in (f"+{gained}" if gained else "", f"-{lost}" if lost else "") if x)
            edges.append((s, d, f"{now} ({change})", "==>" if gained else "-->"))
    outside = sorted({n for s, d, _, _ in edges for n in (s, d) if is_external(n)})
    body = mermaid(r.workloads, outside, edges)
    return [f"#### Flow graph: {', '.join(r.affected)}", "",
            "Thick arrows: opened or widened; dotted: closed.", "", fenced(body, "mermaid"), ""]


# ---------------------------------------------------------------------------------------------------- sections

class ReviewSection:
    """One stack's (or one diff's) review."""

    def __init__(self, review: Review):
        self.review = review
        self.title = review.title
        d = review.diff
        self._present = {"graph": bool(review.affected), "resources": bool(d.added or d.removed or d.changed),
                         "context": bool(review.affected) and bool(review.context())}
        self._cache: dict[Trim, str] = {}

    def has(self, feature: str) -> bool:
        return self._present[feature]

    @property
    def flow_rows(self) -> int:
        return max(len(self.review.diff.gained), len(self.review.diff.lost))

    @property
    def warning_rows(self) -> int:
        return len(self.review.resource_warnings)

    def steps(self) -> Iterator[Trim]:
        """Ever shorter versions of this section, least important content cut first."""
        trim = Trim()
        yield trim
        for feature, _ in OPTIONAL:
            if self.has(feature):
                trim = replace(trim, **{feature: False})
                yield trim
        for n in FLOW_LIMITS:
            if self.flow_rows > n:
                trim = replace(trim, flows=n)
                yield trim
        for n in WARNING_LIMITS:
            if self.warning_rows > n:
                trim = replace(trim, warnings=n)
                yield trim

    def cuts(self, trim: Trim) -> list[str]:
        out = [label for feature, label in OPTIONAL if self.has(feature) and not getattr(trim, feature)]
        if trim.flows is not None and self.flow_rows > trim.flows:
            out.append(f"flow lists after {trim.flows} entries" if trim.flows else "flow lists")
        if trim.warnings is not None and self.warning_rows > trim.warnings:
            out.append(f"resource warnings after {trim.warnings}" if trim.warnings else "resource warnings")
        return out

    def markdown(self, trim: Trim) -> str:
        if trim not in self._cache:
            self._cache[trim] = self._markdown(trim)
        return self._cache[trim]

    def _markdown(self, trim: Trim) -> str:
        r = self.review
        warned = bool(r.warnings())
        out = [f"### {MARK + ' ' if warned else ''}{headline(r)}", ""]
        if r.diff.empty:
            return "\n".join(out + ([r.note] if r.note else [])).rstrip()
        if r.note:
            out += [r.note, ""]
        if r.resource_warnings:
            shown = r.resource_warnings if trim.warnings is None else r.resource_warnings[:trim.warnings]
            out += [f"- {MARK} {w.message}" for w in shown]
            if len(shown) < len(r.resource_warnings):
                out.append(f"- … and {len(r.resource_warnings) - len(shown)} more warnings about resources")
            out.append("")
        out += _flow_list("Flows opened", r.diff.gained, True, r, trim.flows)
        out += _flow_list("Flows closed", r.diff.lost, False, r, trim.flows)
        if trim.resources and self.has("resources"):
            out += _resources(r)
        elif self.has("resources"):
            out += [_resource_summary(r) + " (list cut, see the note at the end)", ""]
        if trim.context and self.has("context"):
            out += _context(r)
        if trim.graph and self.has("graph"):
            out += _graph(r)
        return "\n".join(out).rstrip()


@dataclass
class StaticSection:
    """A section with nothing to trim, e.g. a stack whose render failed."""

    title: str
    text: str

    def markdown(self, trim: Trim) -> str:
        return self.text

    def steps(self) -> Iterator[Trim]:
        yield Trim()

    def cuts(self, trim: Trim) -> list[str]:
        return []


def failure_section(title: str, what: str, lines: Sequence[str], max_lines: int = 40) -> StaticSection:
    shown = list(lines[:max_lines])
    if len(lines) > max_lines:
        shown.append(f"... and {len(lines) - max_lines} more lines")
    text = f"### ❌ {title}: {what}\n\n" + fenced("\n".join(shown) or "(no output)", "text")
    return StaticSection(title, text)


# ---------------------------------------------------------------------------------------------------- budget

def _note(sections: Sequence[Section], trims: Sequence[Trim], budget: int) -> str:
    parts = [f"{s.title}: {', '.join(c)}" for s, t in zip(sections, trims) if (c := s.cuts(t))]
    if not parts:
        return ""
    return f"\n\n---\n✂️ Cut to stay under {budget:,} characters: " + "; ".join(parts) + "."


def _share(sections: Sequence[Section], room: int) -> list[Trim]:
    """Water-filling: sections smaller than an equal share keep everything, the rest split what they leave."""
    trims = [Trim() for _ in sections]
    order = sorted(range(len(sections)), key=lambda i: (size(sections[i].markdown(Trim())), i))
    left = room
    for k, i in enumerate(order):
        allowance = left // (len(sections) - k)
        for trims[i] in sections[i].steps():  # noqa: B020 - each step is stored as it is tried; the last one tried stays
            if size(sections[i].markdown(trims[i])) <= allowance:
                break
        left -= size(sections[i].markdown(trims[i]))
    return trims


def fit(sections: Sequence[Section], head: str = "", budget: int = BUDGET) -> str:
    """Join `head` and the sections, trimming the least important content until the whole is under `budget`.

    Within a section: flow graph, resource list, unchanged flows, then ever shorter flow lists ("… and N more"),
    then resource warnings. Between sections the budget is shared so that a huge stack is trimmed before a small
    one loses anything. A final note says what was cut where."""
    limit = budget - 1  # the printed output ends with a newline
    trims = [Trim() for _ in sections]

    def build() -> str:
        body = "\n\n".join(s.markdown(t) for s, t in zip(sections, trims))
        return (head + "\n\n" + body if head else body) + _note(sections, trims, budget)

    text = build()
    room = limit - size(head) - 2 * len(sections)
    for _ in range(5):
        if size(text) < limit:
            return text
        trims = _share(sections, room)
        text = build()
        # The note grows with what is cut: make room for it and share again.
        room -= max(size(text) - limit + 1, 1)
    if size(text) < limit:
        return text
    # Still too long (hundreds of stacks, or a budget smaller than the headlines): cut at a line, and say so.
    tail = f"\n\n---\n✂️ Cut to stay under {budget:,} characters: everything after this point."
    room = limit - size(tail)
    cut = text[:room]
    while size(cut) > room:
        cut = cut[:-100]
    return cut[:cut.rfind("\n")] + tail if "\n" in cut else cut + tail


def review_markdown(r: Review, budget: int = BUDGET) -> str:
    return fit([ReviewSection(r)], budget=budget)
