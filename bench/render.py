"""Benchmark: the real program under Pulumi mocks vs. registering the same objects as bare resources.

    venv/bin/python bench/render.py [--sizes 10,100,1000]

For each size N it generates a stack of N tenants (one three-tier app each; every third app with a load
balancer, internet egress and a consumer of its neighbour) and measures, each in a fresh process so that one run's
leftovers (Pulumi keeps the root stack and its children for the life of a process) never slow the next:
  - program: the program run in-process as the offline render does (config validation included);
  - bare:    the very same manifests registered as bare pulumi_kubernetes resources (no components, no options).
It prints ms per resource for both (the best of --repeat runs: this machine's background noise moves single
runs by 20 %), their ratio (target <= 1.15) and each run's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from stacks import tenants  # bench/ is the script directory, first on sys.path when run as a script


def generated_config(n: int) -> dict:
    """Pulumi's config values (JSON strings, as `pulumi config` hands them over) of bench/stacks.py's n-tenant stack."""
    return {"tenancy:cluster": json.dumps({"cni": "calico"}), "tenancy:tenants": json.dumps(tenants(n))}


def measure(n: int, mode: str) -> dict:
    """One measurement in this process: {"resources": count, "seconds": s, "rss_mib": peak}."""
    import program
    from components.kubernetes import create
    from specs.plan import stack_objects
    from stackconfig import parse_config
    from tenancy.recording import record

    config = generated_config(n)
    if mode == "program":
        start = time.perf_counter()
        recording = record(program.main, "bench", config)
        seconds = time.perf_counter() - start
        count = len(recording.custom())
    else:
        values = {k.split(":", 1)[1]: json.loads(v) for k, v in config.items()}
        manifests = stack_objects(parse_config(values).config)  # proven equal to the program's (tests/program)
        start = time.perf_counter()
        record(lambda: [create(m) for m in manifests], "bench", {})
        seconds = time.perf_counter() - start
        count = len(manifests)
    return {"resources": count, "seconds": seconds,
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def in_fresh_process(n: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", str(n), mode],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="comma-separated tenant counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts")
    parser.add_argument("--measure", nargs=2, metavar=("N", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(int(args.measure[0]), args.measure[1])))
        return
    print(f"{'tenants':>8} {'resources':>10} {'program ms/res':>15} {'bare ms/res':>12} {'ratio':>7} "
          f"{'program s':>10} {'program RSS MiB':>16} {'bare RSS MiB':>13}")
    for n in (int(s) for s in args.sizes.split(",")):
        runs = [(in_fresh_process(n, "program"), in_fresh_process(n, "bare")) for _ in range(args.repeat)]
        prog = min((p for p, _ in runs), key=lambda r: r["seconds"])
        bare = min((b for _, b in runs), key=lambda r: r["seconds"])
        p_ms = prog["seconds"] / prog["resources"] * 1000
        b_ms = bare["seconds"] / bare["resources"] * 1000
        print(f"{n:>8} {prog['resources']:>10} {p_ms:>15.3f} {b_ms:>12.3f} {p_ms / b_ms:>7.2f} "
              f"{prog['seconds']:>10.1f} {prog['rss_mib']:>16.0f} {bare['rss_mib']:>13.0f}", flush=True)


if __name__ == "__main__":
    main()
