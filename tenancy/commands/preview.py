"""`preview --base REF [--stack S]...`: every stack rendered at REF and in the working tree, reviewed as one
pull-request comment (markdown on stdout, first line `<!-- tenancy-preview -->`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATIONS
from tenancy.preview import MARKER, PreviewError, preview


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preview", help="review each stack's change against a git ref, as one PR comment",
        description="Render each stack twice, at REF (with REF's own code, in a temporary git worktree) and in "
                    "the working tree, and print one markdown comment: per stack a summary line, flows opened "
                    "and closed with warnings, resources and a flow graph, within 60,000 characters. The first "
                    f"line is the marker {MARKER} that CI uses to find and update the comment. Run it from the "
                    "project directory (where Pulumi.yaml is).")
    parser.add_argument("--base", required=True, metavar="REF", help="git ref to compare with, e.g. origin/main")
    parser.add_argument("--stack", action="append", default=[], metavar="S",
                        help="stack to preview (repeatable; default: every Pulumi.*.yaml in the working tree)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    project = Path.cwd()
    if not (project / "Pulumi.yaml").exists():
        print(f"error: no Pulumi.yaml in {project}: run preview from the project directory", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        text, failed = preview(project, args.base, args.stack)
    except PreviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(text)
    return EXIT_VIOLATIONS if failed else EXIT_OK
