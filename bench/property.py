"""Long isolation-property campaign: random valid configs -> program objects -> engine -> intent and invariants.

    venv/bin/python bench/property.py [--examples 10000]

Runs the same properties as tests/property (allowed flows == declared flows, intruder reaches nothing, every
`tenancy check` invariant holds with and without the config) for many more examples, drawing from the same
strategy (`stackconfig.strategies`) and proving with the same code (`analysis.checks.proof`), and prints how much
was checked and how long it took. Exits 1 on the first counterexample.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from hypothesis import HealthCheck, given, settings

from analysis.checks.invariants import check
from analysis.checks.proof import INTRUDER, prove
from specs.plan import stack_objects
from stackconfig import parse_config
from stackconfig.strategies import stack_config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args()
    stats = {"invariant_runs": 0, "examples": 0, "tenants": 0, "apps": 0, "workloads": 0, "declared": 0, "pairs": 0}

    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(stack_config())
    def campaign(raw):
        analysis = prove(parse_config(raw).config)
        actual, declared = analysis.program_flows(), analysis.declared()
        assert actual == declared, {"missing": set(declared) - set(actual), "extra": set(actual) - set(declared)}
        for workload in analysis.tenant_workloads():
            assert not analysis.engine.allowed_ports(INTRUDER, workload)
        objects = stack_objects(analysis.config)
        for reading in (analysis.config, None):
            violations = check(objects, reading)
            assert not violations, [str(v) for v in violations]
        stats["invariant_runs"] += 2
        stats["examples"] += 1
        stats["tenants"] += len(analysis.config.tenants)
        stats["apps"] += sum(len(t.apps) for t in analysis.config.tenants)
        stats["workloads"] += len(analysis.engine.workloads)
        stats["declared"] += len(declared)
        stats["pairs"] += (len(analysis.engine.workloads) + len(analysis.externals)) ** 2

    start = time.perf_counter()
    try:
        campaign()
    except AssertionError as exc:
        print(f"COUNTEREXAMPLE after {stats['examples']} examples: {exc}")
        return 1
    elapsed = time.perf_counter() - start
    n = max(stats["examples"], 1)
    print(f"examples           {stats['examples']}")
    print(f"tenants (mean)     {stats['tenants'] / n:.2f}")
    print(f"apps (mean)        {stats['apps'] / n:.2f}")
    print(f"workloads (total)  {stats['workloads']}")
    print(f"declared flows     {stats['declared']} (all allowed exactly, nothing else)")
    print(f"endpoint pairs     {stats['pairs']} evaluated")
    print(f"invariant checks   {stats['invariant_runs']} (with and without the config's intent), 0 violations")
    print(f"time               {elapsed:.1f} s ({elapsed / n * 1000:.1f} ms per example)")
    print(f"peak RSS           {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
