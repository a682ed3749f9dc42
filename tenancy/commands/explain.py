"""`explain PATH... --from A --to B --port N/PROTO`: the verdict and every policy/rule on both sides."""

from __future__ import annotations

import argparse

from kube.endpoints import Endpoint
from tenancy.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATIONS
from tenancy.commands.engine_io import add_verbose_arg, engine_or_report, error, port_arg


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain", help="why a connection is allowed or denied",
        description="Print the verdict for one connection, then the egress side (policies selecting the source) "
                    "and the ingress side (policies selecting the destination): the rule that admits it, or the "
                    "closest miss. Endpoints are namespace/workload or ip:<address>.",
        epilog="Exit 0 (with --exit-code: 0 allowed, 1 denied), 2 unreadable input or an unknown endpoint.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest file, directory, or '-'")
    parser.add_argument("--from", dest="src", required=True, metavar="A", help="source endpoint")
    parser.add_argument("--to", dest="dst", required=True, metavar="B", help="destination endpoint")
    parser.add_argument("--port", required=True, type=port_arg, metavar="N/PROTO", help="e.g. 5432/TCP")
    parser.add_argument("--exit-code", action="store_true",
                        help="exit 1 when the connection is denied, as 'git diff --exit-code' does for changes")
    add_verbose_arg(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from analysis.reachability import UnknownEndpoint
    from analysis.reachability.explain import verdict_text

    engine = engine_or_report(args.paths, verbose=args.verbose)
    if engine is None:
        return EXIT_BAD_INPUT
    port, proto = args.port
    failed = False
    for name in (args.src, args.dst):
        try:
            engine.resolve(name)
        except UnknownEndpoint as exc:
            endpoint = Endpoint.parse_or_none(name)
            if endpoint is not None and endpoint.is_workload and endpoint.namespace not in engine.cluster.namespaces:
                error(f"unknown endpoint {name!r}: namespace {endpoint.namespace!r} is not in the input")
            else:
                near = f"; near matches: {', '.join(exc.suggestions)}" if exc.suggestions else ""
                error(f"unknown endpoint {name!r} (expected namespace/workload or ip:<address>){near}")
            failed = True
        except ValueError as exc:
            error(str(exc))
            failed = True
    if failed:
        return EXIT_BAD_INPUT
    verdict = engine.verdict(args.src, args.dst, port, proto)
    print(verdict_text(verdict))
    return EXIT_VIOLATIONS if args.exit_code and not verdict.allowed else EXIT_OK
