"""Benchmark: the real program under Pulumi mocks vs. registering the same objects as bare resources.

    venv/bin/python bench/render.py [--sizes 10,100,1000]

For each size N it generates a stack of N tenants (one three-tier app each, every third app with a load
balancer, internet egress and a consumer of its neighbour), runs the program in-process as the offline render
does, then registers the very same manifests as bare pulumi_kubernetes resources (no components, no options).
It prints ms per resource for both, their ratio (target <= 1.15) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import program  # noqa: E402
from components.kubernetes import create  # noqa: E402
from tenancy.recording import record  # noqa: E402


def generated_config(n: int) -> dict:
    tenants = []
    for i in range(n):
        app = {
            "name": "app",
            "frontend": {"image": "nginxinc/nginx-unprivileged:1.27", "replicas": 1},
            "backend": {"image": "example/api:1", "replicas": 1, "internetEgress": i % 3 == 0},
            "database": {"storage": "1Gi"},
        }
        if i % 3 == 0:
            app["frontend"]["loadBalancer"] = {"sourceRanges": [f"198.51.{i % 250}.0/24"]}
            if n > 1:
                app["consumers"] = [{"tenant": f"t{(i + 1) % n:04d}", "app": "app"}]
        tenants.append({"name": f"t{i:04d}", "apps": [app]})
    return {"tenancy:cluster": json.dumps({"cni": "calico"}), "tenancy:tenants": json.dumps(tenants)}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int) -> tuple[int, float, float]:
    config = generated_config(n)
    gc.collect()
    start = time.perf_counter()
    recording = record(program.main, "bench", config)
    program_s = time.perf_counter() - start
    manifests = [r.inputs for r in recording.custom()]

    def bare() -> None:
        for manifest in manifests:
            create(manifest)

    gc.collect()
    start = time.perf_counter()
    record(bare, "bench-bare", {})
    bare_s = time.perf_counter() - start
    return len(manifests), program_s, bare_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="comma-separated tenant counts")
    args = parser.parse_args()
    print(f"{'tenants':>8} {'resources':>10} {'program ms/res':>15} {'bare ms/res':>12} {'ratio':>7} {'total s':>8} {'peak RSS MiB':>13}")
    for n in (int(s) for s in args.sizes.split(",")):
        count, program_s, bare_s = run(n)
        print(f"{n:>8} {count:>10} {program_s / count * 1000:>15.3f} {bare_s / count * 1000:>12.3f} "
              f"{program_s / bare_s:>7.2f} {program_s + bare_s:>8.1f} {peak_rss_mib():>13.0f}", flush=True)


if __name__ == "__main__":
    main()
