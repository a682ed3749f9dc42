"""Argument parsing and dispatch; each sub-command lives in its own module under `tenancy.commands`.

A command module exposes `register(subparsers)` that adds its parser and sets `run` (a callable taking the parsed
arguments and returning the exit code) as the parser's default `run`. Command modules import what they need inside
`run`, and only the command being run is registered (all of them for the top-level --help), so `matrix` never
pays for Pulumi, pydantic or rich.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order shown in --help.
COMMANDS = ("render", "matrix", "explain", "diff", "preview", "check", "graph", "lab")

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2

EPILOG = """\
exit codes (every command):
  0    done, nothing to report
  1    something to report: check found violations, preview a failed render, explain --exit-code a denied
       connection, diff --exit-code a warning
  2    the input cannot be used: unreadable or empty manifests, a bad stack config, a bad argument
  130  interrupted (Ctrl-C), 143 terminated (SIGTERM); nothing half-written is left behind

examples:
  python -m tenancy render --stack dev                         # build/dev/<namespace>.yaml
  python -m tenancy matrix build/dev --port 5432/TCP --namespace acme
  python -m tenancy explain build/dev --from acme/shop-frontend --to acme/shop-database --port 5432/TCP
  python -m tenancy check --stack dev build/dev
  kubectl get ns,deploy,sts,ds,pods,netpol -A -o yaml | python -m tenancy matrix - --json --allowed-only --port 80
  python -m tenancy preview --base origin/main > comment.md

'python -m tenancy COMMAND --help' describes each command.
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or with `only` that one (what running it needs)."""
    parser = argparse.ArgumentParser(
        prog="python -m tenancy",
        description="Zero-trust multi-tenant Kubernetes: render stacks and prove what their NetworkPolicies allow.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS if only is None else (only,):
        try:
            module = importlib.import_module(f"tenancy.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tenancy.commands.{name}":
                raise
            continue  # command not built yet
        module.register(subparsers)
    return parser


def _command(argv: list[str]) -> str | None:
    """The command named by argv when it is one (its options follow it), else None."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    """Run the command `argv` names (default: the process's arguments, and then Ctrl-C and SIGTERM are handled
    as `tenancy.signals` says; a caller passing argv, a test, keeps its own signal handling)."""
    if argv is None:
        from tenancy import signals

        signals.install()
        argv = sys.argv[1:]
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
