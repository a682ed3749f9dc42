"""`graph PATH... [--format mermaid|dot] [--namespace NS]... [--max-edges N]`: the allowed-flow graph.

Mermaid refuses diagrams beyond 50,000 characters or 500 edges by default, and Graphviz turns a few thousand
edges into a picture nobody can read. Past `--max-edges` (default: Mermaid's 500) or Mermaid's text limit the
graph is drawn with one node per namespace; if even that is too big, the command refuses with a hint.
"""

from __future__ import annotations

import argparse
import sys

from kube.endpoints import Endpoint
from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK
from tenancy.commands.engine_io import add_verbose_arg, engine_or_report, error, external_arg

MERMAID_MAX_TEXT = 50_000  # Mermaid's default maxTextSize
MERMAID_MAX_EDGES = 500  # Mermaid's default maxEdges


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "graph", help="allowed-flow graph (Mermaid or Graphviz DOT)",
        description="Print the allowed-flow graph: workloads grouped by namespace, edges labelled with the port "
                    "sets they allow, and the ipBlocks named by policies (plus any --external address) as nodes.",
        epilog=f"Beyond --max-edges edges (or, for Mermaid, {MERMAID_MAX_TEXT:,} characters: Mermaid's default "
               "limits) the graph is drawn with one node per namespace, and a note says so; if that is still "
               "too big the command exits 2 with a hint. Exit 0, 2 unreadable input, unknown namespace or a "
               "graph too big.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest file, directory, or '-'")
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    parser.add_argument("--external", action="append", type=external_arg, default=[], metavar="IP",
                        help="external address to add as a node (repeatable)")
    parser.add_argument("--namespace", action="append", default=[], metavar="NS",
                        help="only flows from or to workloads of namespace NS (repeatable)")
    parser.add_argument("--max-edges", type=int, default=MERMAID_MAX_EDGES, metavar="N",
                        help=f"most edges to draw (default {MERMAID_MAX_EDGES}, Mermaid's maxEdges)")
    add_verbose_arg(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from analysis.reachability.graph import by_namespace, dot_graph, graph_edges, mermaid_graph, select

    engine = engine_or_report(args.paths, verbose=args.verbose)
    if engine is None:
        return EXIT_BAD_INPUT
    known = {Endpoint.parse(w).group for w in engine.workloads}
    missing = [ns for ns in dict.fromkeys(args.namespace) if ns not in known]
    for ns in missing:
        where = "has no workloads" if ns in engine.cluster.namespaces else "is not in the input"
        error(f"--namespace {ns}: namespace {ns!r} {where}")
    if missing:
        return EXIT_BAD_INPUT
    groups, edges = select(engine, graph_edges(engine, args.external), args.namespace)
    draw = dot_graph if args.format == "dot" else mermaid_graph
    text = draw(groups, edges)
    if _fits(text, len(edges), args):
        print(text)
        return EXIT_OK
    limits = f"{args.max_edges:,} edges" + (f" or {MERMAID_MAX_TEXT:,} characters" if args.format == "mermaid" else "")
    merged_groups, merged = by_namespace(groups, edges)
    merged_text = draw(merged_groups, merged)
    if _fits(merged_text, len(merged), args):
        print(f"note: {len(edges):,} edges are more than {limits}: drawn with one node per namespace "
              f"({len(merged):,} edges); --namespace NS shows a namespace's workloads", file=sys.stderr)
        print(merged_text)
        return EXIT_OK
    error(f"graph too big: {len(edges):,} edges between workloads and {len(merged):,} between namespaces, more "
          f"than {limits}; narrow it with --namespace NS, or raise --max-edges")
    return EXIT_BAD_INPUT


def _fits(text: str, edges: int, args: argparse.Namespace) -> bool:
    return edges <= args.max_edges and (args.format != "mermaid" or len(text) <= MERMAID_MAX_TEXT)
