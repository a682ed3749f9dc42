"""CLI glue shared by the engine's sub-commands: argument types, loading with one-line errors, notes, filters.

Lives with the commands, not in `analysis/`: the engine itself knows nothing of argv, stderr or exit codes. Imports
of the engine happen inside the functions, so building the parser (every command's `--help`) stays cheap."""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kube.endpoints import ADDRESS_PREFIX, Endpoint

if TYPE_CHECKING:
    from analysis.reachability import Engine
    from analysis.reachability.model import Cluster


def port_arg(text: str) -> tuple[int, str]:
    from analysis.reachability.ports import parse_protocol_port

    try:
        return parse_protocol_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def external_arg(text: str) -> str:
    from analysis.reachability.ipblocks import endpoint_name, parse_address

    try:
        return endpoint_name(parse_address(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    """`text` with control characters (a NUL from a hostile file) written as \\xNN escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def error(message: str) -> None:
    print(f"error: {printable(message)}", file=sys.stderr)


def warning(message: str) -> None:
    print(f"warning: {printable(message)}", file=sys.stderr)


def add_verbose_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also note the objects of kinds the engine does not look at")


def load_or_report(paths: list[str], verbose: bool = False) -> Cluster | None:
    """Load manifests; on failure print one `error:` line per problem and return None (caller exits 2)."""
    from analysis.reachability import ManifestError, load_paths

    try:
        cluster = load_paths(paths)
    except ManifestError as exc:
        for problem in exc.problems:
            error(problem)
        return None
    if not cluster.resources:
        error(f"no Kubernetes objects in {', '.join('<stdin>' if p == '-' else p for p in paths)} "
              "(an empty export, or a command before the pipe that failed?)")
        return None
    report(cluster, verbose)
    return cluster


def report(cluster: Cluster, verbose: bool = False) -> None:
    """Warnings about what was read (on stderr): duplicates, policy kinds not modelled; with `verbose`, the
    count of objects of other kinds that were skipped."""
    from analysis.reachability.manifests import unmodelled_policies

    for line in cluster.warnings:
        warning(line)
    for note in cluster.notes:  # workloads analysed pod by pod, hostNetwork pods
        print(f"note: {note}", file=sys.stderr)
    if cluster.finished:
        print(f"note: {cluster.finished} finished pods and Jobs (Succeeded, Failed, Complete) carry no flows and are "
              "left out", file=sys.stderr)
    unmodelled = unmodelled_policies(cluster.skipped)
    if unmodelled:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(unmodelled.items()))
        warning(f"verdicts may be incomplete: {sum(unmodelled.values())} policy objects of kinds the engine does "
                f"not model ({kinds}); a CNI that enforces them filters traffic the verdicts here do not account "
                "for")
    others = {k: n for k, n in cluster.skipped.items() if k not in unmodelled}
    if verbose and others:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(others.items()))
        print(f"note: skipped {sum(others.values())} objects of other kinds ({kinds})", file=sys.stderr)


def engine_or_report(paths: list[str], verbose: bool = False, cluster_services: bool = False) -> Engine | None:
    """An engine over the manifests at `paths`, or None after reporting why they cannot be read (exit 2)."""
    from analysis.reachability import Engine

    cluster = load_or_report(paths, verbose)
    if cluster is None:
        return None
    if cluster_services:
        cluster = with_cluster_services(cluster)
    engine = Engine(cluster)
    for line in engine.warnings:  # cluster-policy peers it cannot model, equal priorities that disagree
        warning(line)
    return engine


def with_cluster_services(cluster: Cluster) -> Cluster:
    """`cluster` plus the DNS and Prometheus stand-ins `check` models, where the input has none of its own."""
    from analysis.checks.cluster_context import missing_context
    from analysis.reachability.manifests import build_cluster

    extra = missing_context(cluster)
    if not extra:
        return cluster
    docs = [(r.source, r.obj) for r in cluster.resources]
    docs += [(f"<cluster services> doc {i}", obj) for i, obj in enumerate(extra, 1)]
    return build_cluster(docs)


def port_label(port: int, proto: str) -> str:
    return f"{port}/{proto}"


# ---------------------------------------------------------------------------------------------------- filters

def add_filter_args(parser: argparse.ArgumentParser, ends: bool = True) -> None:
    parser.add_argument("--namespace", action="append", default=[], metavar="NS",
                        help="only workloads of namespace NS (repeatable); --external addresses stay")
    if ends:
        parser.add_argument("--from", dest="from_patterns", action="append", default=[], metavar="PATTERN",
                            help="only these sources: an endpoint, a namespace, or a glob such as "
                                 "'acme/*-backend' (repeatable)")
        parser.add_argument("--to", dest="to_patterns", action="append", default=[], metavar="PATTERN",
                            help="only these destinations (same forms as --from; repeatable)")


def _matches(pattern: str, name: str) -> bool:
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    if "/" in pattern or pattern.startswith(ADDRESS_PREFIX):
        return name == pattern
    return Endpoint.parse(name).namespace == pattern  # a namespace


@dataclass
class EndpointFilter:
    namespaces: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    destinations: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.namespaces or self.sources or self.destinations)

    def in_namespaces(self, name: str) -> bool:
        if not self.namespaces:
            return True
        endpoint = Endpoint.parse(name)
        return endpoint.is_address or endpoint.namespace in self.namespaces

    def source(self, name: str) -> bool:
        return self.in_namespaces(name) and (not self.sources or any(_matches(p, name) for p in self.sources))

    def destination(self, name: str) -> bool:
        return self.in_namespaces(name) and (
            not self.destinations or any(_matches(p, name) for p in self.destinations))

    @classmethod
    def from_args(cls, args: argparse.Namespace, engine: Engine) -> EndpointFilter | None:
        """The filter the arguments ask for, or None after reporting each one that matches nothing (exit 2)."""
        import difflib

        chosen = cls(list(dict.fromkeys(args.namespace)), list(getattr(args, "from_patterns", [])),
                     list(getattr(args, "to_patterns", [])))
        names = [*engine.workloads, *args.external]
        namespaces = sorted({Endpoint.parse(n).group for n in engine.workloads} | set(engine.cluster.namespaces))
        ok = True
        for ns in chosen.namespaces:
            if ns not in namespaces:
                near = difflib.get_close_matches(ns, namespaces, n=3)
                error(f"--namespace {ns}: namespace {ns!r} is not in the input"
                      + (f"; near matches: {', '.join(near)}" if near else ""))
                ok = False
        for flag, patterns in (("--from", chosen.sources), ("--to", chosen.destinations)):
            for p in patterns:
                if not any(_matches(p, n) for n in names):
                    near = difflib.get_close_matches(p, names + namespaces, n=3)
                    error(f"{flag} {p}: matches no workload or address in the input"
                          + (f"; near matches: {', '.join(near)}" if near else ""))
                    ok = False
        return chosen if ok else None


def stack_arg(text: str) -> str:
    """A stack's own name (it names Pulumi.<stack>.yaml in the project directory); anything else exits 2."""
    from stackconfig.load import stack_name_problem

    problem = stack_name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text
