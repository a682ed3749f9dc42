"""`matrix PATH... [--port N/PROTO]... [--external IP]... [--json]`: who may connect to whom."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from reachability import Engine
from reachability.cli import EXIT_BAD_INPUT, EXIT_OK, external_arg, load_or_report, port_arg, port_label


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "matrix", help="who may connect to whom, per port or as allowed port sets",
        description="Read Kubernetes manifests (files, directories, '-' for stdin) and print which workload may "
                    "open a connection to which. With --port: a table (or JSON) per port over every workload and "
                    "--external address; without: every allowed pair with its port set.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest file, directory, or '-'")
    parser.add_argument("--port", action="append", type=port_arg, default=[], metavar="N/PROTO",
                        help="port to evaluate, e.g. 80/TCP or 53/UDP (repeatable; protocol defaults to TCP)")
    parser.add_argument("--external", action="append", type=external_arg, default=[], metavar="IP",
                        help="external address to include as source and destination (repeatable, IPv4 or IPv6)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    cluster = load_or_report(args.paths)
    if cluster is None:
        return EXIT_BAD_INPUT
    engine = Engine(cluster)
    ports = list(dict.fromkeys(args.port))
    if ports:
        matrices = engine.matrix(ports, args.external)
        if args.json:
            out = {"ports": {port_label(*k): m.to_dict() for k, m in matrices.items()}}
            json.dump(out, sys.stdout, indent=1, sort_keys=False)
            sys.stdout.write("\n")
        else:
            console = Console(highlight=False)
            for key, m in matrices.items():
                console.print(_table(port_label(*key), m))
        return EXIT_OK
    flows = engine.flows(args.external)
    if args.json:
        rows = [{"from": s, "to": d, "ports": str(ps)} for (s, d), ps in sorted(flows.items())]
        json.dump({"flows": rows}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return EXIT_OK
    table = Table(title=f"{len(flows)} allowed flows between {len(engine.workloads)} workloads"
                        + (f" and {len(args.external)} external address{'es' if len(args.external) > 1 else ''}"
                           if args.external else ""))
    table.add_column("from")
    table.add_column("to")
    table.add_column("ports")
    for (s, d), ps in sorted(flows.items()):
        table.add_row(s, d, str(ps))
    Console(highlight=False).print(table)
    return EXIT_OK


def _table(label: str, m) -> Table:
    # Destination names as headers would make 30 columns unreadable; number them and legend the rows instead.
    names = list(m)
    table = Table(title=f"{label}: row may connect to column  (✓ allowed, · denied)", show_lines=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("from \\ to")
    for i in range(len(names)):
        table.add_column(str(i + 1), justify="center")
    for i, src in enumerate(names):
        row = m[src]
        cells = ["-" if dst == src else ("[green]✓[/]" if row[dst] else "[dim]·[/]") for dst in names]
        table.add_row(str(i + 1), src, *cells)
    return table
