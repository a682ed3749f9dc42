"""Allowed-flow graph as Mermaid or Graphviz DOT: workloads grouped by namespace, edges labelled with port sets,
the ipBlocks named by policies (and any --external address) as nodes outside the namespaces."""

from __future__ import annotations

from typing import Iterable

from kube.endpoints import Endpoint, EndpointKind

from .engine import Engine
from .ports import PortSet


def graph_edges(engine: Engine, externals: Iterable[str] = ()) -> dict[tuple[str, str], PortSet]:
    edges = dict(engine.flows(externals))
    edges.update(engine.ip_block_flows())
    return edges


def _by_namespace(engine: Engine) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for w in engine.workloads:
        groups.setdefault(Endpoint.parse(w).group, []).append(w)
    return groups


def _mermaid_text(s: str) -> str:
    return s.replace('"', "#quot;")


def mermaid(groups: dict[str, list[str]], outside: Iterable[str],
            edges: Iterable[tuple[str, str, str, str]]) -> str:
    """Mermaid flowchart: `groups` namespace -> its workload endpoints (one subgraph each), `outside` nodes drawn
    as stadiums, `edges` (src, dst, label, arrow) with arrow one of "-->", "==>", "-.->"."""
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for gi, (ns, members) in enumerate(sorted(groups.items())):
        lines.append(f'  subgraph ns{gi}["{_mermaid_text(ns)}"]')
        for w in members:
            ids[w] = f"w{len(ids)}"
            lines.append(f'    {ids[w]}["{_mermaid_text(Endpoint.parse(w).name)}"]')
        lines.append("  end")
    for n in outside:
        ids[n] = f"x{len(ids)}"
        label = Endpoint.parse(n).name
        lines.append(f'  {ids[n]}(["{_mermaid_text(label)}"])')
    for s, d, label, arrow in edges:
        lines.append(f'  {ids[s]} {arrow}|"{_mermaid_text(label)}"| {ids[d]}')
    return "\n".join(lines)


Edges = dict[tuple[str, str], PortSet]


def select(engine: Engine, edges: Edges, namespaces: Iterable[str] = ()) -> tuple[dict[str, list[str]], Edges]:
    """(namespace -> workloads to draw, edges to draw): with `namespaces`, only edges from or to a workload of
    one of them, and the workloads at their ends; without, everything."""
    wanted = set(namespaces)
    groups = _by_namespace(engine)
    if not wanted:
        return groups, edges
    known = set(engine.workloads)

    def inside(node: str) -> bool:
        return node in known and Endpoint.parse(node).namespace in wanted

    kept = {pair: ports for pair, ports in edges.items() if inside(pair[0]) or inside(pair[1])}
    ends = {n for pair in kept for n in pair if n in known}
    chosen = {ns: [w for w in members if ns in wanted or w in ends] for ns, members in groups.items()}
    return {ns: members for ns, members in chosen.items() if members}, kept


def by_namespace(groups: dict[str, list[str]], edges: Edges) -> tuple[dict[str, list[str]], Edges]:
    """The same graph with one node per namespace (`ns:<name>`): edges between two namespaces merged, their
    ports united; traffic inside a namespace is left out."""
    node = {w: str(Endpoint.namespace_node(ns)) for ns, members in groups.items() for w in members}
    merged: Edges = {}
    for (s, d), ports in edges.items():
        a, b = node.get(s, s), node.get(d, d)
        if a == b:
            continue
        merged[(a, b)] = merged[(a, b)] | ports if (a, b) in merged else ports
    return {}, merged


def _outside(groups: dict[str, list[str]], edges: Edges) -> list[str]:
    drawn = {w for members in groups.values() for w in members}
    return sorted({n for pair in edges for n in pair if n not in drawn})


def _label(node: str) -> str:
    endpoint = Endpoint.parse(node)
    return str(endpoint) if endpoint.is_workload else endpoint.name


def mermaid_graph(groups: dict[str, list[str]], edges: Edges) -> str:
    return mermaid(groups, _outside(groups, edges),
                   [(s, d, str(ports), "-->") for (s, d), ports in sorted(edges.items())])


def mermaid_of(engine: Engine, externals: Iterable[str] = ()) -> str:
    return mermaid_graph(_by_namespace(engine), graph_edges(engine, externals))


def _dot(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_graph(groups: dict[str, list[str]], edges: Edges) -> str:
    lines = ["digraph reachability {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for ns, members in sorted(groups.items()):
        lines.append(f"  subgraph {_dot('cluster_' + ns)} {{")
        lines.append(f"    label={_dot(ns)};")
        for w in members:
            lines.append(f"    {_dot(w)} [label={_dot(Endpoint.parse(w).name)}];")
        lines.append("  }")
    for n in _outside(groups, edges):
        namespace_node = Endpoint.parse(n).kind is EndpointKind.NAMESPACE
        shape = "box, style=\"rounded,bold\"" if namespace_node else "ellipse, style=dashed"
        lines.append(f"  {_dot(n)} [label={_dot(_label(n))}, shape={shape}];")
    for (s, d), ports in sorted(edges.items()):
        lines.append(f"  {_dot(s)} -> {_dot(d)} [label={_dot(str(ports))}];")
    lines.append("}")
    return "\n".join(lines)


def dot_of(engine: Engine, externals: Iterable[str] = ()) -> str:
    return dot_graph(_by_namespace(engine), graph_edges(engine, externals))
