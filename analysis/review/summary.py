"""A diff prepared for review: the engine's diff plus its warnings, the namespaces it touches, and a headline.

The text and JSON views live here too; the PR-comment markdown (with its size budget) is in `review.markdown`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from analysis.review.diff import ANYWHERE, Diff, diff_clusters, with_witnesses
from analysis.review.diff import diff_json
from analysis.review.diff import diff_text
from analysis.reachability.model import Cluster
from analysis.reachability.ports import PortSet

from .warnings import (CLUSTER_POLICY, CROSS_TENANT, DATA_LOSS, DATABASE, EXTERNAL, INTERNET, ISOLATION, KINDS,
                       ReviewWarning, flow_warnings, namespace_of, resource_warnings)


@dataclass
class Review:
    title: str
    diff: Diff
    flow_warnings: dict[tuple[str, str], tuple[ReviewWarning, ...]] = field(default_factory=dict)
    resource_warnings: list[ReviewWarning] = field(default_factory=list)
    affected: list[str] = field(default_factory=list)  # namespaces touched by a gained or lost flow
    workloads: dict[str, list[str]] = field(default_factory=dict)  # affected namespace -> workloads, either side
    note: str = ""  # shown under the headline, e.g. why everything is "added"

    def warnings(self) -> list[ReviewWarning]:
        out = [w for c in self.diff.gained for w in self.flow_warnings.get((c.src, c.dst), ())]
        return out + self.resource_warnings

    def counts(self) -> Counter:
        return Counter(w.kind for w in self.warnings())

    def context(self) -> list[tuple[str, str, PortSet]]:
        """Flows that did not change but enter or leave an affected namespace: what the change sits among."""
        affected = set(self.affected)
        before, after = self.diff.flows_before, self.diff.flows_after
        # Stand-ins (witness pods, the unknown-namespace pod, the arbitrary address) are there to reveal changes;
        # their unchanged flows would only crowd out the real ones.
        stand_ins = {w.endpoint for w in self.diff.witnesses} | {ANYWHERE}
        return [(s, d, ports) for (s, d), ports in sorted(after.items())
                if before.get((s, d)) == ports and (namespace_of(s) in affected or namespace_of(d) in affected)
                and s not in stand_ins and d not in stand_ins]


def review_clusters(old: Cluster, new: Cluster, title: str, externals: Iterable[str] = (), note: str = "") -> Review:
    old_seen, new_seen, witnesses = with_witnesses(old, new)
    d = diff_clusters(old_seen, new_seen, externals, witnesses=False)
    d.witnesses = witnesses
    workloads = {w.endpoint: w for w in new_seen.workloads}
    warned = {}
    for c in d.gained:
        found = flow_warnings(c, new_seen, workloads)
        if found:
            warned[(c.src, c.dst)] = tuple(found)
    affected = sorted({ns for c in d.gained + d.lost for ns in (namespace_of(c.src), namespace_of(c.dst)) if ns})
    members: dict[str, set[str]] = {ns: set() for ns in affected}
    changed = {e for c in d.gained + d.lost for e in (c.src, c.dst)}
    stand_ins = {w.endpoint for w in witnesses}
    for w in (*old_seen.workloads, *new_seen.workloads):
        if w.namespace in members and (w.endpoint not in stand_ins or w.endpoint in changed):
            members[w.namespace].add(w.endpoint)
    return Review(title, d, warned, resource_warnings(old, new, d), affected,
                  {ns: sorted(ws) for ns, ws in members.items()}, note)


def counted(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


# Warning kinds beyond cross-tenant appear in the headline only when present, to keep it one glance long.
_EXTRA = ((ISOLATION, "isolation removed", None),
          (CLUSTER_POLICY, "cluster policy changed", "cluster policies changed"),
          (DATABASE, "into a database", "into databases"), (EXTERNAL, "new external exposure", None),
          (INTERNET, "internet egress", None), (DATA_LOSS, "data-loss risk", None))


def headline(r: Review) -> str:
    """One line a reviewer can act on: resource counts, flows opened/closed, warnings by kind."""
    d = r.diff
    if d.empty:
        return f"{r.title}: no changes (same resources, same flows)"
    counts = r.counts()
    parts = [f"+{counted(len(d.added), 'resource')}", f"-{len(d.removed)} removed", f"~{len(d.changed)} changed",
             f"{counted(len(d.gained), 'flow')} opened", f"{len(d.lost)} closed",
             f"{counts[CROSS_TENANT]} cross-tenant"]
    parts += [counted(counts[kind], one, many) for kind, one, many in _EXTRA if counts[kind]]
    return f"{r.title}: " + ", ".join(parts)


def review_text(r: Review) -> str:
    lines = [diff_text(r.diff)]
    found = sorted(r.warnings(), key=lambda w: KINDS.index(w.kind))
    if found:
        lines.append(f"warnings ({len(found)}):")
        lines += [f"  ! {w.kind}: {w.message}" for w in found]
    return "\n".join(lines)


def review_json(r: Review) -> dict:
    out = diff_json(r.diff)
    out["title"] = r.title
    out["summary"] = headline(r)
    out["warnings"] = [{"kind": w.kind, "subject": w.subject, "message": w.message}
                       for w in sorted(r.warnings(), key=lambda w: KINDS.index(w.kind))]
    return out
