"""`render --stack S [--out DIR]`: the program's resources for one stack as kubectl-ready YAML, offline."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK
from tenancy.commands.engine_io import printable, stack_arg

# The render could not be written (I/O): distinct from 2, which means the input (config, --out) is wrong.
EXIT_CANNOT_WRITE = 3
# Above this many files the summary is per kind, not per file (a 1,000-tenant stack writes 1,002 files).
SUMMARY_FILES = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render", help="render a stack's resources to YAML without Pulumi CLI or cluster",
        description="Run the Pulumi program for Pulumi.STACK.yaml under mocks and write one YAML file per "
                    "namespace, starting with the Namespace itself, plus _cluster.yaml for any other "
                    "cluster-scoped object: the files apply in any order. Exit 0 written, 2 bad config or an "
                    "--out that is not a render, 3 the render could not be written (read-only, disk full, "
                    "permissions), 130/143 interrupted; in every failure the output directory is left as it was.")
    parser.add_argument("--stack", required=True, type=stack_arg, help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument("--out", type=Path,
                        help="output directory (default: build/STACK); replaced as a whole, so it must be absent, "
                             "empty or an earlier render (marked by a .tenancy-render file): anything else is "
                             "refused")
    parser.add_argument("--config-dir", type=Path,
                        help="directory holding Pulumi.STACK.yaml (default: the Pulumi project around the "
                             "current directory)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help=f"summary per file even beyond {SUMMARY_FILES} files")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from stackconfig import ConfigError
    from stackconfig.load import stack_path
    from tenancy.outdir import OutputFailed, OutputRefused, replaceable
    from tenancy.progress import Progress
    from tenancy.recording import close_event_loop
    from tenancy.render import by_kind, render_stack, summary, write_atomically

    out = args.out or Path("build") / args.stack
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        replaceable(Path(os.path.abspath(out)))  # before the render: refuse in a second, not after a minute
    except (OutputRefused, OutputFailed) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
        return EXIT_BAD_INPUT if isinstance(exc, OutputRefused) else EXIT_CANNOT_WRITE
    with Progress("rendering: resources registered") as progress:
        try:
            rendered = render_stack(args.stack, args.config_dir, on_resource=progress.advance)
        except ConfigError as exc:
            where = stack_path(args.stack, args.config_dir)
            err.print(f"[bold red]error:[/] {where.name}: invalid stack config, nothing written", markup=True)
            for problem in exc.problems:
                err.print(f"  {printable(problem)}", markup=False)
            return EXIT_BAD_INPUT
        for warning in rendered.parsed.warnings:
            err.print(f"[yellow]warning:[/] {escape(printable(warning))}", markup=True)
        files = rendered.by_file()
        progress.phase("writing files")
        header = (f"# Rendered by `python -m tenancy render --stack {args.stack}` - do not edit; change "
                  f"Pulumi.{args.stack}.yaml.\n")
        try:
            write_atomically(files, out, header)
        except (OutputRefused, OutputFailed) as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
            return EXIT_BAD_INPUT if isinstance(exc, OutputRefused) else EXIT_CANNOT_WRITE
    close_event_loop()
    objects = sum(len(d) for d in files.values())
    if len(files) > SUMMARY_FILES and not args.verbose:
        table = Table(title=f"stack {args.stack}: {objects:,} objects in {len(files):,} files -> {out}/",
                      caption="-v lists every file")
        table.add_column("kind")
        table.add_column("objects", justify="right")
        table.add_column("files", justify="right")
        for kind, count, in_files in by_kind(files):
            table.add_row(kind, f"{count:,}", f"{in_files:,}")
    else:
        table = Table(title=f"stack {args.stack}: {objects} objects -> {out}/")
        table.add_column("file")
        table.add_column("kinds")
        table.add_column("objects", justify="right")
        for name, kinds, count in summary(files):
            table.add_row(name, kinds, str(count))
    Console(highlight=False).print(table)
    return EXIT_OK
