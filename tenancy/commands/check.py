"""`check PATH... [--stack S]`: apiserver-grade validation of every object, then the tenancy invariants.

Exit 0 when clean, 1 when anything is reported (one `<rule> <subject>: <why>` line each on stdout, sorted), 2 when
the input cannot be analysed at all: unreadable files, text that is not YAML/JSON, no object at all (an empty
export, a failed `kubectl get` piped in), objects without kind or name, or fields the engine must interpret that
the API server would refuse (names, labels, selectors, CIDRs, ports, protocols, policy types). Those are the same
located `error:` lines `matrix` prints for the same files. What is readable but still invalid (a Service port out
of range, an unknown field in the schema) is a violation, exit 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK
from tenancy.commands.engine_io import add_verbose_arg, error, load_or_report, stack_arg, warning

if TYPE_CHECKING:
    from stackconfig import StackConfig

EXIT_VIOLATIONS = 1
DEFAULT_KUBERNETES_VERSION = "1.32"  # stackconfig.models.ClusterConfig's default (a test keeps them equal)
_VERSION = re.compile(r"v?(1)\.(0|[1-9][0-9]*)(\.[0-9]+)?\Z")


def kubernetes_version_arg(text: str) -> str:
    """`1.32` (also `v1.32`, `1.32.4`) -> `1.32`; anything else is an argument error (exit 2)."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Kubernetes version such as 1.32")
    return f"{match.group(1)}.{match.group(2)}"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="validate every object and prove the tenancy invariants",
        description="Validate every object as the API server and the upstream OpenAPI schema would, then prove "
                    "the tenancy invariants over the flows the manifests allow. With --stack the intent (tenants, "
                    "apps, ports, load-balancer ranges, consumers) comes from the stack's config; without it, "
                    "from the program's labels in the manifests. Prints one '<rule> <subject>: <why>' line per "
                    "violation.",
        epilog="Exit 0 clean, 1 violations, 2 unreadable input (including no objects at all, as from a failed "
               "'kubectl get' piped in), a bad --stack or --kubernetes-version.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest file, directory, or '-'")
    parser.add_argument("--stack", type=stack_arg, metavar="S", help="check against the intent declared in Pulumi.S.yaml")
    parser.add_argument("--config-dir", type=Path, metavar="DIR",
                        help="directory holding Pulumi.<stack>.yaml (default: the Pulumi project around the "
                             "current directory)")
    parser.add_argument("--kubernetes-version", type=kubernetes_version_arg, metavar="V",
                        help=f"schema version, e.g. 1.32 (default: the stack's cluster.kubernetesVersion, else "
                             f"{DEFAULT_KUBERNETES_VERSION})")
    add_verbose_arg(parser)
    parser.set_defaults(run=run)


def _stack_config(stack: str, config_dir: Path | None) -> StackConfig | None:
    from stackconfig import ConfigError, parse_config, read_stack_file
    from stackconfig.load import stack_path

    try:
        parsed = parse_config(read_stack_file(stack_path(stack, config_dir)).tenancy_values())
    except ConfigError as exc:
        for problem in exc.problems:
            error(problem)
        return None
    for line in parsed.warnings:
        warning(line)
    return parsed.config


def run(args: argparse.Namespace) -> int:
    from tenancy.progress import Progress

    with Progress("reading manifests") as progress:
        config = None
        if args.stack:
            config = _stack_config(args.stack, args.config_dir)
            if config is None:
                return EXIT_BAD_INPUT
        cluster = load_or_report(args.paths, args.verbose)
        if cluster is None:
            return EXIT_BAD_INPUT
        from analysis.checks.invariants import RULES, check
        from analysis.checks.validation import validate

        manifests = [r.obj for r in cluster.resources]
        version = args.kubernetes_version or (config.cluster.kubernetes_version if config else DEFAULT_KUBERNETES_VERSION)
        progress.phase("validating objects", total=len(manifests))
        violations, notes = validate(manifests, version, [r.source for r in cluster.resources],
                                     progress=progress.advance, loaded=True)
        progress.phase("proving invariants")
        violations = sorted(set(violations + check(manifests, config, notes=notes)))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for violation in violations:
        print(violation)
    against = f"stack {args.stack}'s intent" if args.stack else "the program's labels (no --stack)"
    outcome = f"{len(violations)} violation{'s' if len(violations) != 1 else ''}" if violations else "no violations"
    print(f"check: {len(manifests)} objects validated, {len(RULES)} invariants proved against {against}: {outcome}",
          file=sys.stderr)
    return EXIT_VIOLATIONS if violations else EXIT_OK
