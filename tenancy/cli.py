"""Argument parsing and dispatch; each sub-command lives in its own module under `tenancy.commands`.

A command module exposes `register(subparsers)` that adds its parser and sets `run` (a callable taking the parsed
arguments and returning the exit code) as the parser's default `run`.
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tenancy",
        description="Zero-trust multi-tenant Kubernetes: render stacks and prove what their NetworkPolicies allow.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"tenancy.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tenancy.commands.{name}":
                raise
            continue  # command not built yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
