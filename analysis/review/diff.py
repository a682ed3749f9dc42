"""Compare two manifest sets: flows gained/lost (per pair and port set) and resources added/removed/changed.

Flows are the graph's edges: workload pairs, plus the ipBlocks that policies name as `cidr:<block>` endpoints, so
a widened load-balancer range shows up as a flow even when no `--external` address falls into it.
Resource comparison ignores what the API server writes back (status, uid, resourceVersion, managedFields, ...)
and the fields it fills in when a manifest leaves them out (`kube.serverside`: clusterIP, sessionAffinity: None,
...), so a live export can be compared with a fresh render without noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from analysis.reachability.engine import Engine
from analysis.reachability.graph import graph_edges
from analysis.reachability.manifests import build_cluster
from analysis.reachability.model import Cluster, Resource
from analysis.reachability.ports import PortSet
from analysis.reachability.witnesses import Witness, witness_objects
from kube.serverside import defaulted, strip_server_metadata

MAX_FIELDS = 12


@dataclass(frozen=True)
class FlowChange:
    src: str
    dst: str
    ports: PortSet  # the ports gained (or lost)
    before: PortSet
    after: PortSet


@dataclass(frozen=True)
class ResourceChange:
    kind: str
    namespace: str
    name: str
    fields: tuple[str, ...] = ()  # "path: old -> new", "path: added", "path: removed"

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass
class Diff:
    gained: list[FlowChange] = field(default_factory=list)
    lost: list[FlowChange] = field(default_factory=list)
    added: list[ResourceChange] = field(default_factory=list)
    removed: list[ResourceChange] = field(default_factory=list)
    changed: list[ResourceChange] = field(default_factory=list)
    # Every flow on each side, so reviews can show what stayed the same around a change without recomputing.
    flows_before: dict[tuple[str, str], PortSet] = field(default_factory=dict)
    flows_after: dict[tuple[str, str], PortSet] = field(default_factory=dict)
    # Pods that do not exist but could (and a pod of an unknown namespace), analysed among the sources.
    witnesses: list[Witness] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.gained or self.lost or self.added or self.removed or self.changed)


def _short(v: Any) -> str:
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def field_changes(old: Any, new: Any, path: str = "", ignore: Callable[[str, Any], bool] | None = None) -> list[str]:
    """Leaf-level differences as "path: old -> new" lines; lists are compared by index. A field present on one
    side only is not a difference when `ignore(path, value)` says so (a field the API server fills in)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in sorted(set(old) | set(new), key=str):
            p = f"{path}.{k}" if path else str(k)
            if (k not in old or k not in new) and ignore is not None and ignore(p, new[k] if k in new else old[k]):
                continue
            if k not in old:
                out.append(f"{p}: added {_short(new[k])}")
            elif k not in new:
                out.append(f"{p}: removed")
            else:
                out += field_changes(old[k], new[k], p, ignore)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            p = f"{path}[{i}]"
            if i >= len(old):
                out.append(f"{p}: added {_short(new[i])}")
            elif i >= len(new):
                out.append(f"{p}: removed")
            else:
                out += field_changes(old[i], new[i], p, ignore)
        return out
    if old != new:
        return [f"{path}: {_short(old)} -> {_short(new)}"]
    return []


def _by_key(resources: Iterable[Resource]) -> dict[tuple[str, str, str], Resource]:
    return {r.key: r for r in resources}


def diff_resources(old: Cluster, new: Cluster) -> tuple[list[ResourceChange], list[ResourceChange], list[ResourceChange]]:
    a, b = _by_key(old.resources), _by_key(new.resources)
    added = [ResourceChange(*k) for k in sorted(set(b) - set(a))]
    removed = [ResourceChange(*k) for k in sorted(set(a) - set(b))]
    changed = []
    for k in sorted(set(a) & set(b)):
        kind = k[0]
        # mypy cannot infer a lambda's default-bound argument (kind=kind binds this object's kind)
        fields = field_changes(strip_server_metadata(a[k].obj), strip_server_metadata(b[k].obj),
                               ignore=lambda path, value, kind=kind: defaulted(kind, path, value))  # type: ignore[misc]
        if fields:
            if len(fields) > MAX_FIELDS:
                fields = fields[:MAX_FIELDS] + [f"... and {len(fields) - MAX_FIELDS} more"]
            changed.append(ResourceChange(*k, tuple(fields)))
    return added, removed, changed


def compare_flows(a: dict[tuple[str, str], PortSet],
                  b: dict[tuple[str, str], PortSet]) -> tuple[list[FlowChange], list[FlowChange]]:
    none = PortSet()
    gained, lost = [], []
    for pair in sorted(set(a) | set(b)):
        before, after = a.get(pair, none), b.get(pair, none)
        if before == after:
            continue
        if after - before:
            gained.append(FlowChange(*pair, after - before, before, after))
        if before - after:
            lost.append(FlowChange(*pair, before - after, before, after))
    return gained, lost


# An arbitrary address of the internet (TEST-NET-2, RFC 5737): a flow from or to it is a flow from or to anywhere.
ANYWHERE = "ip:198.51.100.7"
UNKNOWN_NAMESPACE = "unknown-namespace"


def with_witnesses(old: Cluster, new: Cluster) -> tuple[Cluster, Cluster, list[Witness]]:
    """Both sides with the same stand-ins added: a pod in a namespace neither side knows (no labels at all) and
    a witness for every peer of either side's policies (see `witnesses`), so a policy that admits "any pod
    anywhere" or pods anyone could label is seen admitting something even where no such pod exists today.
    Witnesses are analysed, never listed as resources."""
    merged = Cluster(namespaces={**old.namespaces, **new.namespaces}, workloads=[*old.workloads, *new.workloads],
                     policies=[*old.policies, *new.policies])
    objects, witnesses = witness_objects(merged)
    unknown = UNKNOWN_NAMESPACE
    while unknown in merged.namespaces:
        unknown += "-x"
    objects += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unknown}},
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "any-pod", "namespace": unknown},
                 "spec": {"containers": [{"name": "any", "image": "any"}]}}]
    witnesses.append(Witness(f"{unknown}/any-pod", "any pod, in a namespace no manifest declares"))
    extra = build_cluster((f"<witness {i}>", o) for i, o in enumerate(objects, 1))

    def plus(c: Cluster) -> Cluster:
        return replace(c, namespaces={**extra.namespaces, **c.namespaces}, workloads=[*c.workloads, *extra.workloads],
                       policies=[*c.policies, *extra.policies])

    return plus(old), plus(new), witnesses


def diff_clusters(old: Cluster, new: Cluster, externals: Iterable[str] = (), witnesses: bool = True) -> Diff:
    """Flows and resources gained and lost. With `witnesses` (the default) both sides get the stand-ins of
    `with_witnesses` first, and an arbitrary internet address is among the externals."""
    externals = list(dict.fromkeys([*externals, ANYWHERE]))
    stand_ins: list[Witness] = []
    if witnesses:
        old, new, stand_ins = with_witnesses(old, new)
    before, after = graph_edges(Engine(old), externals), graph_edges(Engine(new), externals)
    gained, lost = compare_flows(before, after)
    added, removed, changed = diff_resources(old, new)
    return Diff(gained, lost, added, removed, changed, before, after, stand_ins)


# ---------------------------------------------------------------------------------------------------- rendering

def _flow_line(c: FlowChange) -> str:
    return f"{c.src} -> {c.dst}: {c.ports}"


def diff_text(d: Diff) -> str:
    if d.empty:
        return "no differences: same resources, same flows"
    lines = []
    used = {e for c in d.gained + d.lost for e in (c.src, c.dst)}
    shown = [w for w in d.witnesses if w.endpoint in used]
    if shown:
        lines.append("stand-ins (pods that do not exist but could, analysed like any other):")
        lines += [f"  {w.endpoint}: {w.description}" for w in shown]
    for title, items, mark in (("flows gained", d.gained, "+"), ("flows lost", d.lost, "-")):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  {mark} {_flow_line(c)}" for c in items]
    for title, resources, mark in (("resources added", d.added, "+"), ("resources removed", d.removed, "-"),
                                   ("resources changed", d.changed, "~")):
        if resources:
            lines.append(f"{title} ({len(resources)}):")
            for r in resources:
                lines.append(f"  {mark} {r.ref}")
                lines += [f"      {f}" for f in r.fields]
    return "\n".join(lines)


def diff_json(d: Diff) -> dict:
    def flow(c: FlowChange) -> dict:
        return {"from": c.src, "to": c.dst, "ports": str(c.ports), "before": str(c.before), "after": str(c.after)}

    def res(r: ResourceChange) -> dict:
        out: dict[str, Any] = {"kind": r.kind, "namespace": r.namespace or None, "name": r.name}
        if r.fields:
            out["fields"] = list(r.fields)
        return out

    return {
        "flows": {"gained": [flow(c) for c in d.gained], "lost": [flow(c) for c in d.lost]},
        "resources": {"added": [res(r) for r in d.added], "removed": [res(r) for r in d.removed],
                      "changed": [res(r) for r in d.changed]},
    }
