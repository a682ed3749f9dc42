"""`matrix PATH... [--port N/PROTO]... [--external IP]... [--json]`: who may connect to whom."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK
from tenancy.commands.engine_io import external_arg, engine_or_report, port_arg, port_label


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "matrix", help="who may connect to whom, per port or as allowed port sets",
        description="Read Kubernetes manifests (files, directories, '-' for stdin) and print which workload may "
                    "open a connection to which. With --port: a table (or JSON) per port over every workload and "
                    "--external address; without: every allowed pair with its port set.",
        epilog="Pod IPs are not part of manifests, so pod-to-pod traffic never matches ipBlock peers; ipBlocks "
               "apply to --external addresses only. A workload's traffic to itself is not shown.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest file, directory, or '-'")
    parser.add_argument("--port", action="append", type=port_arg, default=[], metavar="N/PROTO",
                        help="port to evaluate, e.g. 80/TCP or 53/UDP (repeatable; protocol defaults to TCP)")
    parser.add_argument("--external", action="append", type=external_arg, default=[], metavar="IP",
                        help="external address to include as source and destination (repeatable, IPv4 or IPv6)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    engine = engine_or_report(args.paths)
    if engine is None:
        return EXIT_BAD_INPUT
    ports = list(dict.fromkeys(args.port))
    if ports:
        matrices = engine.matrix(ports, args.external)
        if args.json:
            _write_json(matrices, sys.stdout)
        else:
            console = Console(highlight=False)
            for key, m in matrices.items():
                for table in _tables(port_label(*key), m, console.width):
                    console.print(table)
        return EXIT_OK
    flows = engine.flows(args.external)
    if args.json:
        rows = [{"from": s, "to": d, "ports": str(ps)} for (s, d), ps in sorted(flows.items())]
        json.dump({"flows": rows}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return EXIT_OK
    title = (f"{len(flows)} allowed flows between {len(engine.workloads)} workloads"
             + (f" and {len(args.external)} external address{'es' if len(args.external) > 1 else ''}"
                if args.external else ""))
    rows = [(s, d, str(ps)) for (s, d), ps in sorted(flows.items())]
    if len(rows) > PLAIN_ABOVE:
        _print_plain(title, rows)
        return EXIT_OK
    table = Table(title=title)
    table.add_column("from")
    table.add_column("to")
    table.add_column("ports")
    for row in rows:
        table.add_row(*row)
    Console(highlight=False).print(table)
    return EXIT_OK


# rich lays out a table cell by cell: fine for a page, seconds for the thousands of flows of a big cluster.
PLAIN_ABOVE = 300


def _print_plain(title: str, rows: list[tuple[str, str, str]]) -> None:
    w0 = max(len("from"), *(len(r[0]) for r in rows))
    w1 = max(len("to"), *(len(r[1]) for r in rows))
    lines = [title, f"{'from':<{w0}}  {'to':<{w1}}  ports"]
    lines += [f"{s:<{w0}}  {d:<{w1}}  {p}" for s, d, p in rows]
    sys.stdout.write("\n".join(lines) + "\n")


def _tables(label: str, m, width: int) -> list[Table]:
    """One compact grid per port, split into column groups that fit the console.

    Destination names as headers would make 30 columns unreadable, so columns are numbered (digits stacked
    vertically, one character wide) and the rows carry the numbers and names.
    """
    names = list(m)
    if not names:
        return [Table(title=f"{label}: no workloads")]
    name_w = max(len(n) for n in names)
    idx_w = len(str(len(names)))
    per = max(1, (width - name_w - idx_w - 2) // 2)  # each mark column: 1 character + 1 space
    tables = []
    for start in range(0, len(names), per):
        cols = range(start, min(start + per, len(names)))
        part = "" if len(names) <= per else f" (columns {cols[0] + 1}-{cols[-1] + 1})"
        table = Table(title=f"{label}: row may connect to column{part}", caption="✓ allowed  · denied",
                      box=None, padding=(0, 1, 0, 0), header_style="bold", title_justify="left",
                      caption_justify="left")
        table.add_column("#", justify="right", style="dim", no_wrap=True, min_width=idx_w)
        table.add_column("from \\ to", no_wrap=True, min_width=name_w)
        for j in cols:
            table.add_column("\n".join(str(j + 1).rjust(idx_w)), justify="center", no_wrap=True, min_width=1)
        for i, src in enumerate(names):
            row = m[src]
            cells = ["-" if j == i else ("[green]✓[/]" if row[names[j]] else "[dim]·[/]") for j in cols]
            table.add_row(str(i + 1), src, *cells)
        tables.append(table)
    return tables


def _write_json(matrices, out) -> None:
    # Streamed row by row: at 3,000 workloads a dict-of-dicts per port would need gigabytes.
    out.write('{"ports": {')
    for pi, (key, m) in enumerate(matrices.items()):
        out.write(("," if pi else "") + "\n " + json.dumps(port_label(*key)) + ": {")
        for ri, (src, row) in enumerate(m.json_rows()):
            out.write(("," if ri else "") + "\n  " + json.dumps(src) + ": " + row)
        out.write("\n }")
    out.write("\n}}\n")
