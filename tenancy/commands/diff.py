"""`diff OLD NEW [--format text|markdown|json]`: flows gained/lost and resources added/removed/changed."""

from __future__ import annotations

import argparse
import json

from reachability.cli import EXIT_BAD_INPUT, EXIT_OK, external_arg, load_or_report
from reachability.diff import diff_clusters, render_json, render_markdown, render_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff", help="flows gained/lost and resources changed between two manifest sets",
        description="Compare two sets of manifests (files or directories, e.g. a render before and after a "
                    "change, or a live export and a render): network flows gained and lost per pair with their "
                    "port sets, and resources added, removed or changed with a field-level summary.")
    parser.add_argument("old", metavar="OLD", help="manifests before (file, directory or '-')")
    parser.add_argument("new", metavar="NEW", help="manifests after (file, directory or '-')")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--external", action="append", type=external_arg, default=[], metavar="IP",
                        help="external address to include in the flow comparison (repeatable)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    old = load_or_report([args.old])
    new = load_or_report([args.new])
    if old is None or new is None:
        return EXIT_BAD_INPUT
    d = diff_clusters(old, new, args.external)
    if args.format == "json":
        print(json.dumps(render_json(d), indent=1))
    elif args.format == "markdown":
        print(render_markdown(d))
    else:
        print(render_text(d))
    return EXIT_OK
