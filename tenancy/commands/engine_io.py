"""CLI glue shared by the engine's sub-commands: argument types, loading with one-line errors, notes.

Lives with the commands, not in `analysis/reachability/`: the engine itself knows nothing of argv, stderr or exit codes."""

from __future__ import annotations

import argparse
import sys

from analysis.reachability import Engine, ManifestError, load_paths
from analysis.reachability.ipblocks import endpoint_name, parse_address
from analysis.reachability.model import Cluster
from analysis.reachability.ports import parse_protocol_port


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


def engine_or_report(paths: list[str]) -> Engine | None:
    """An engine over the manifests at `paths`, or None after reporting why they cannot be read (exit 2)."""
    cluster = load_or_report(paths)
    if cluster is None:
        return None
    engine = Engine(cluster)
    for warning in engine.warnings:  # cluster-policy peers it cannot model, equal priorities that disagree
        print(f"warning: {warning}", file=sys.stderr)
    return engine


def note_skipped(cluster: Cluster) -> None:
    if cluster.skipped:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(cluster.skipped.items()))
        print(f"note: skipped {sum(cluster.skipped.values())} objects of other kinds ({kinds})", file=sys.stderr)


def port_label(port: int, proto: str) -> str:
    return f"{port}/{proto}"
