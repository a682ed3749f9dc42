"""`diff OLD NEW [--format text|markdown|json] [--title NAME]`: flows gained/lost, resources changed, warnings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATIONS
from tenancy.commands.engine_io import add_verbose_arg, external_arg, load_or_report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff", help="flows gained/lost and resources changed between two manifest sets",
        description="Compare two sets of manifests (files or directories, e.g. a render before and after a "
                    "change, or a live export and a render): network flows gained and lost per pair with their "
                    "port sets, resources added, removed or changed with a field-level summary, and warnings "
                    "for cross-tenant flows, flows into databases, new external exposure and removed data. "
                    "Fields the API server fills in when a manifest leaves them out (clusterIP, sessionAffinity: "
                    "None, ...) are not differences. --format markdown is written to be posted as a pull-request "
                    "comment.",
        epilog="Exit 0 (with --exit-code: 0 no warning, 1 at least one warning), 2 unreadable or empty input.")
    parser.add_argument("old", metavar="OLD", help="manifests before (file, directory or '-')")
    parser.add_argument("new", metavar="NEW", help="manifests after (file, directory or '-')")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--title", metavar="NAME",
                        help="name leading the summary line, e.g. the stack (default: NEW's directory name)")
    parser.add_argument("--external", action="append", type=external_arg, default=[], metavar="IP",
                        help="external address to include in the flow comparison (repeatable)")
    parser.add_argument("--exit-code", action="store_true",
                        help="exit 1 when the change raises a warning (cross-tenant flow, flow into a database, new "
                             "external exposure, removed data), as 'git diff --exit-code' does for changes")
    add_verbose_arg(parser)
    parser.set_defaults(run=run)


def default_title(new: str) -> str:
    if new == "-":
        return "stdin"
    path = Path(new).resolve()
    return path.name if path.is_dir() else path.parent.name


def run(args: argparse.Namespace) -> int:
    from analysis.review import review_json, review_markdown, review_text, review_clusters

    old = load_or_report([args.old], args.verbose)
    new = load_or_report([args.new], args.verbose)
    if old is None or new is None:
        return EXIT_BAD_INPUT
    r = review_clusters(old, new, args.title or default_title(args.new), args.external)
    if args.format == "json":
        print(json.dumps(review_json(r), indent=1))
    elif args.format == "markdown":
        print(review_markdown(r))
    else:
        print(review_text(r))
    return EXIT_VIOLATIONS if args.exit_code and r.warnings() else EXIT_OK
