"""`graph PATH... [--format mermaid|dot]`: the allowed-flow graph."""

from __future__ import annotations

import argparse

from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK
from tenancy.commands.engine_io import external_arg, engine_or_report
from analysis.reachability.graph import render_dot, render_mermaid


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "graph", help="allowed-flow graph (Mermaid or Graphviz DOT)",
        description="Print the allowed-flow graph: workloads grouped by namespace, edges labelled with the port "
                    "sets they allow, and the ipBlocks named by policies (plus any --external address) as nodes.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest file, directory, or '-'")
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    parser.add_argument("--external", action="append", type=external_arg, default=[], metavar="IP",
                        help="external address to add as a node (repeatable)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    engine = engine_or_report(args.paths)
    if engine is None:
        return EXIT_BAD_INPUT
    render = render_dot if args.format == "dot" else render_mermaid
    print(render(engine, args.external))
    return EXIT_OK
