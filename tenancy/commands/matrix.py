"""`matrix PATH... [--port N/PROTO]... [--external IP]... [--json [--allowed-only]] [filters]`: who may connect to
whom.

Scale: at 1,000 tenants there are about 3,000 workloads, nine million pairs per port. The JSON grid streams row
by row; `--allowed-only` keeps only the allowed pairs (the same shape, a few MB); the text grid is drawn for at
most GRID_LIMIT sources and destinations and otherwise replaced by per-port totals and a hint to narrow it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Iterable, TextIO

from kube.endpoints import Endpoint
from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK
from tenancy.commands.engine_io import (
    EndpointFilter,
    add_filter_args,
    add_verbose_arg,
    engine_or_report,
    external_arg,
    port_arg,
    port_label,
)

if TYPE_CHECKING:
    from analysis.reachability import MatrixView

# A grid wider or taller than this is unreadable and slow to draw: summarise instead.
GRID_LIMIT = 200
# rich lays out a table cell by cell: fine for a page, seconds for the thousands of flows of a big cluster. Output
# that is not a terminal is plain too (and never imports rich).
PLAIN_ABOVE = 300


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "matrix", help="who may connect to whom, per port or as allowed port sets",
        description="Read Kubernetes manifests (files, directories, '-' for stdin) and print which workload may "
                    "open a connection to which. With --port: a grid (or JSON) per port over every workload and "
                    "--external address; without: every allowed pair with its port set.",
        epilog=f"The text grid is drawn for up to {GRID_LIMIT} sources and destinations; beyond that each port's "
               "totals are printed instead, with a hint to narrow the view (--namespace, --from, --to) or use "
               "--json --allowed-only. Pod IPs are not part of manifests, so pod-to-pod traffic never matches "
               "ipBlock peers; ipBlocks apply to --external addresses only. Traffic between two external "
               "addresses is not cluster traffic and never shown as allowed. A workload's traffic to itself is "
               "not shown. Exit 0, 2 unreadable input or a filter matching nothing.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest file, directory, or '-'")
    parser.add_argument("--port", action="append", type=port_arg, default=[], metavar="N/PROTO",
                        help="port to evaluate, e.g. 80/TCP or 53/UDP (repeatable; protocol defaults to TCP)")
    parser.add_argument("--external", action="append", type=external_arg, default=[], metavar="IP",
                        help="external address to include as source and destination (repeatable, IPv4 or IPv6)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--allowed-only", action="store_true",
                        help="with --json --port: list allowed pairs only (same shape, sources without any "
                             "allowed destination left out)")
    add_filter_args(parser)
    parser.add_argument("--with-cluster-services", action="store_true",
                        help="add the cluster DNS (kube-system, k8s-app=kube-dns) and Prometheus (monitoring) "
                             "that a render relies on but does not contain, as `check` does, unless the input "
                             "has workloads there already")
    add_verbose_arg(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.allowed_only and not (args.json and args.port):
        print("error: --allowed-only needs --json and --port (without --port the output lists allowed pairs only)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    from tenancy.progress import Progress

    with Progress("reading manifests") as progress:
        engine = engine_or_report(args.paths, verbose=args.verbose, cluster_services=args.with_cluster_services)
        progress.phase("computing who may connect to whom")
        ports = list(dict.fromkeys(args.port))
        matrices = engine.matrix(ports, args.external, between_externals=False) if engine and ports else {}
        flows = engine.flows(args.external) if engine and not ports else {}
    if engine is None:
        return EXIT_BAD_INPUT
    endpoints = EndpointFilter.from_args(args, engine)
    if endpoints is None:
        return EXIT_BAD_INPUT
    if ports:
        names = list(next(iter(matrices.values())))
        sources = [n for n in names if endpoints.source(n)]
        dests = [n for n in names if endpoints.destination(n)]
        if args.json:
            _write_json(matrices, sources, dests, sys.stdout, args.allowed_only)
        elif len(sources) > GRID_LIMIT or len(dests) > GRID_LIMIT:
            _write_totals(matrices, sources, dests, sys.stdout)
            print(f"hint: a grid of {len(sources):,} x {len(dests):,} is not drawn (limit {GRID_LIMIT}); narrow it "
                  "with --namespace, --from or --to, or use --json --allowed-only", file=sys.stderr)
        else:
            _write_grids(matrices, sources, dests)
        return EXIT_OK
    flows = {pair: ps for pair, ps in flows.items() if endpoints.source(pair[0]) and endpoints.destination(pair[1])}
    if args.json:
        listed = [{"from": s, "to": d, "ports": str(ps)} for (s, d), ps in sorted(flows.items())]
        json.dump({"flows": listed}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return EXIT_OK
    title = (f"{len(flows)} allowed flows between {len(engine.workloads)} workloads"
             + (f" and {len(args.external)} external address{'es' if len(args.external) > 1 else ''}"
                if args.external else "")
             + (" (filtered)" if endpoints.active else ""))
    rows = [(s, d, str(ps)) for (s, d), ps in sorted(flows.items())]
    if len(rows) > PLAIN_ABOVE or not rows or not sys.stdout.isatty():
        _print_plain(title, rows)
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("from")
    table.add_column("to")
    table.add_column("ports")
    for row in rows:
        table.add_row(*row)
    Console(highlight=False).print(table)
    return EXIT_OK


def _print_plain(title: str, rows: list[tuple[str, str, str]]) -> None:
    if not rows:
        sys.stdout.write(title + "\n")
        return
    w0 = max(len("from"), *(len(r[0]) for r in rows))
    w1 = max(len("to"), *(len(r[1]) for r in rows))
    lines = [title, f"{'from':<{w0}}  {'to':<{w1}}  ports"]
    lines += [f"{s:<{w0}}  {d:<{w1}}  {p}" for s, d, p in rows]
    sys.stdout.write("\n".join(lines) + "\n")


def _namespace(name: str) -> str:
    return Endpoint.parse(name).group


def _write_totals(matrices: dict[tuple[int, str], MatrixView], sources: list[str], dests: list[str],
                  out: TextIO) -> None:
    out.write(f"{len(sources):,} sources x {len(dests):,} destinations\n")
    for key, m in matrices.items():
        allowed = cross = 0
        for src, dsts in m.allowed_pairs(sources, dests):
            allowed += len(dsts)
            ns = _namespace(src)
            cross += sum(1 for d in dsts if _namespace(d) != ns)
        out.write(f"{port_label(*key)}: {allowed:,} allowed pairs ({cross:,} across namespaces)\n")


def _write_grids(matrices: dict[tuple[int, str], MatrixView], sources: list[str], dests: list[str]) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    for key, m in matrices.items():
        for table in _tables(port_label(*key), m, sources, dests, console.width):
            console.print(table)


def _tables(label: str, m: MatrixView, sources: list[str], dests: list[str], width: int) -> list:
    """One compact grid per port, split into column groups that fit the console.

    Destination names as headers would make 30 columns unreadable, so columns are numbered (digits stacked
    vertically, one character wide) and the rows carry the numbers and names (a destination that is not also a
    source is listed after the sources)."""
    from rich.table import Table

    if not sources or not dests:
        return [Table(title=f"{label}: no workloads")]
    numbered = list(dict.fromkeys([*sources, *dests]))
    number = {n: i + 1 for i, n in enumerate(numbered)}
    name_w = max(len(n) for n in numbered)
    idx_w = len(str(len(numbered)))
    per = max(1, (width - name_w - idx_w - 2) // 2)  # each mark column: 1 character + 1 space
    tables = []
    for start in range(0, len(dests), per):
        cols = dests[start:start + per]
        part = "" if len(dests) <= per else f" (columns {start + 1}-{start + len(cols)} of {len(dests)})"
        table = Table(title=f"{label}: row may connect to column{part}",
                      caption="✓ allowed  · denied  - itself or between two external addresses",
                      box=None, padding=(0, 1, 0, 0), header_style="bold", title_justify="left",
                      caption_justify="left")
        table.add_column("#", justify="right", style="dim", no_wrap=True, min_width=idx_w)
        table.add_column("from \\ to", no_wrap=True, min_width=name_w)
        for d in cols:
            table.add_column("\n".join(str(number[d]).rjust(idx_w)), justify="center", no_wrap=True, min_width=1)
        for src in sources:
            row = m[src]
            external = Endpoint.parse(src).is_address
            cells = ["-" if d == src or (external and Endpoint.parse(d).is_address)
                     else ("[green]✓[/]" if row[d] else "[dim]·[/]") for d in cols]
            table.add_row(str(number[src]), src, *cells)
        extra = [d for d in numbered if d not in set(sources)]
        for d in extra:
            table.add_row(str(number[d]), f"[dim]{d}[/]", *[""] * len(cols))
        tables.append(table)
    return tables


def _write_json(matrices: dict[tuple[int, str], MatrixView], sources: list[str], dests: list[str], out: TextIO,
                allowed_only: bool) -> None:
    # Streamed row by row: at 3,000 workloads a dict-of-dicts per port would need gigabytes.
    out.write('{"ports": {')
    for pi, (key, m) in enumerate(matrices.items()):
        out.write(("," if pi else "") + "\n " + json.dumps(port_label(*key)) + ": {")
        rows: Iterable[tuple[str, str]]
        if allowed_only:
            rows = ((src, "{" + ", ".join(json.dumps(d) + ": true" for d in dsts) + "}")
                    for src, dsts in m.allowed_pairs(sources, dests) if dsts)
        else:
            rows = m.json_rows(sources, dests)
        for ri, (src, row) in enumerate(rows):
            out.write(("," if ri else "") + "\n  " + json.dumps(src) + ": " + row)
        out.write("\n }")
    out.write("\n}}\n")
