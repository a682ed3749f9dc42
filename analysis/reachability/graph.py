"""Allowed-flow graph as Mermaid or Graphviz DOT: workloads grouped by namespace, edges labelled with port sets,
the ipBlocks named by policies (and any --external address) as nodes outside the namespaces."""

from __future__ import annotations

from typing import Iterable

from .engine import Engine
from .ports import PortSet


def graph_edges(engine: Engine, externals: Iterable[str] = ()) -> dict[tuple[str, str], PortSet]:
    edges = dict(engine.flows(externals))
    edges.update(engine.ip_block_flows())
    return edges


def _outside_nodes(edges: dict[tuple[str, str], PortSet], engine: Engine) -> list[str]:
    known = set(engine.workloads)
    return sorted({n for pair in edges for n in pair if n not in known})


def _by_namespace(engine: Engine) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for w in engine.workloads:
        groups.setdefault(w.split("/", 1)[0], []).append(w)
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
            lines.append(f'    {ids[w]}["{_mermaid_text(w.split("/", 1)[1])}"]')
        lines.append("  end")
    for n in outside:
        ids[n] = f"x{len(ids)}"
        label = n.split(":", 1)[1]
        lines.append(f'  {ids[n]}(["{_mermaid_text(label)}"])')
    for s, d, label, arrow in edges:
        lines.append(f'  {ids[s]} {arrow}|"{_mermaid_text(label)}"| {ids[d]}')
    return "\n".join(lines)


def render_mermaid(engine: Engine, externals: Iterable[str] = ()) -> str:
    edges = graph_edges(engine, externals)
    return mermaid(_by_namespace(engine), _outside_nodes(edges, engine),
                   [(s, d, str(ports), "-->") for (s, d), ports in sorted(edges.items())])


def _dot(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(engine: Engine, externals: Iterable[str] = ()) -> str:
    edges = graph_edges(engine, externals)
    lines = ["digraph reachability {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for ns, members in sorted(_by_namespace(engine).items()):
        lines.append(f"  subgraph {_dot('cluster_' + ns)} {{")
        lines.append(f"    label={_dot(ns)};")
        for w in members:
            lines.append(f"    {_dot(w)} [label={_dot(w.split('/', 1)[1])}];")
        lines.append("  }")
    for n in _outside_nodes(edges, engine):
        lines.append(f"  {_dot(n)} [label={_dot(n.split(':', 1)[1])}, shape=ellipse, style=dashed];")
    for (s, d), ports in sorted(edges.items()):
        lines.append(f"  {_dot(s)} -> {_dot(d)} [label={_dot(str(ports))}];")
    lines.append("}")
    return "\n".join(lines)
