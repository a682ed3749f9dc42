"""CLI glue shared by the engine's sub-commands: argument types, loading with one-line errors, notes."""

from __future__ import annotations

import argparse
import sys

from .ipblocks import endpoint_name, parse_address
from .manifests import ManifestError, load_paths
from .model import Cluster
from .ports import parse_protocol_port

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def port_arg(text: str) -> tuple[int, str]:
    try:
        return parse_protocol_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def external_arg(text: str) -> str:
    try:
        return endpoint_name(parse_address(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def load_or_report(paths: list[str]) -> Cluster | None:
    """Load manifests; on failure print one `error:` line per problem and return None (caller exits 2)."""
    try:
        cluster = load_paths(paths)
    except ManifestError as exc:
        for problem in exc.problems:
            error(problem)
        return None
    note_skipped(cluster)
    return cluster


def note_skipped(cluster: Cluster) -> None:
    if cluster.skipped:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(cluster.skipped.items()))
        print(f"note: skipped {sum(cluster.skipped.values())} objects of other kinds ({kinds})", file=sys.stderr)


def port_label(port: int, proto: str) -> str:
    return f"{port}/{proto}"
