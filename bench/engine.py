"""Benchmark the reachability engine on generated clusters (a script, not a test).

    venv/bin/python bench/engine.py [--sizes 10,100,1000] [--ports 8080/TCP,5432/TCP,53/UDP] [--flows]
                                    [--admin-policies none|ClusterNetworkPolicy|AdminNetworkPolicy]

Each tenant gets a namespace with a three-tier app (frontend/backend Deployments, database StatefulSet) and
exactly the objects the program creates for it, built by `specs.plan` from a generated stack config (LB range on
every frontend, internet egress for every backend, a cross-tenant consumer for every tenth tenant), plus the
cluster services (DNS, monitoring) the analyses add. The CNI is calico, so without --admin-policies the cluster
gets calico's default, ClusterNetworkPolicy (admin- and baseline-tier cluster policies: consumer and monitoring
passes, one boundary per tenant, the baseline); `--admin-policies none` benchmarks NetworkPolicies alone.
Manifests are written as one YAML file per namespace (like `render`), then each size runs in a fresh process
so peak RSS is per size: time to load (parse + normalise), to build the engine (classes, indexes, compiled
policies), and to compute the full matrix for the ports (every source x destination x port decided).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import yaml

from analysis.checks.cluster_context import context_objects
from specs.plan import stack_objects
from stackconfig import StackConfig, parse_config
from stackconfig.cni import ADMIN_POLICY_CHOICES
from stacks import Dumper  # bench/ is the script directory, first on sys.path when run as a script


def generated_config(n: int, admin_policies: str | None = None) -> StackConfig:
    """n tenants of one three-tier app each: an LB range on every frontend, internet egress for every backend and a
    cross-tenant consumer for every tenth tenant; validated like any stack config. `admin_policies` is
    `tenancy:cluster.adminPolicies` (None: unset, calico's default)."""
    tenants = []
    for i in range(n):
        app: dict = {
            "name": f"app{i:04d}",
            "frontend": {"image": "example/web:1", "replicas": 2, "loadBalancer": {"sourceRanges": ["203.0.113.0/24"]}},
            "backend": {"image": "example/api:1", "replicas": 2, "internetEgress": True},
            "database": {"storage": "1Gi"},
        }
        if i % 10 == 0 and n > 1:
            j = (i + 1) % n
            app["consumers"] = [{"tenant": f"t{j:04d}", "app": f"app{j:04d}", "tier": "backend"}]
        tenants.append({"name": f"t{i:04d}", "apps": [app]})
    cluster: dict = {"cni": "calico", "egressProxy": {"enabled": True}}
    if admin_policies is not None:
        cluster["adminPolicies"] = admin_policies
    return parse_config({"cluster": cluster, "tenants": tenants}).config


def write_cluster(n: int, out: str, admin_policies: str | None = None) -> int:
    """The program's objects for `generated_config(n, admin_policies)` (specs.plan, the composition `pulumi up`
    deploys) plus the cluster services it relies on, one YAML file per namespace like `render`."""
    config = generated_config(n, admin_policies)
    objects = stack_objects(config) + context_objects(config.cluster)
    files: dict[str, list[dict]] = {}
    for obj in objects:
        meta = obj.get("metadata", {})
        name = meta.get("namespace") or (meta["name"] if obj["kind"] == "Namespace" else "_cluster")
        files.setdefault(name, []).append(obj)
    os.makedirs(out, exist_ok=True)
    for name, objs in files.items():
        with open(os.path.join(out, f"{name}.yaml"), "w") as fh:
            yaml.dump_all(objs, fh, Dumper=Dumper, sort_keys=False)
    return len(objects)


def measure(path: str, ports: list[str], flows: bool) -> dict:
    from analysis.reachability import Engine, load_paths, parse_protocol_port

    c0, t0 = time.process_time(), time.perf_counter()
    cluster = load_paths([path])
    t1 = time.perf_counter()
    engine = Engine(cluster)
    t2 = time.perf_counter()
    matrices = engine.matrix([parse_protocol_port(p) for p in ports], ["203.0.113.7", "8.8.8.8"])
    allowed = sum(m.count_allowed() for m in matrices.values())
    t3, c3 = time.perf_counter(), time.process_time()
    result = {"workloads": len(engine.workloads), "policies": len(cluster.policies),
              "cluster_policies": len(cluster.cluster_policies), "load": t1 - t0,
              "engine": t2 - t1, "matrix": t3 - t2, "cpu": c3 - c0, "allowed": allowed}
    if flows:
        result["flows_n"] = len(engine.flows())
        result["flows"] = time.perf_counter() - t3
    result["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--ports", default="8080/TCP,5432/TCP,53/UDP")
    ap.add_argument("--flows", action="store_true", help="also time flows() (every pair's port set)")
    ap.add_argument("--keep", metavar="DIR", help="write the generated clusters under DIR and keep them")
    ap.add_argument("--admin-policies", choices=ADMIN_POLICY_CHOICES, default=None,
                    help="tenancy:cluster.adminPolicies of the generated stack (default: unset, which for its CNI, "
                         "calico, means ClusterNetworkPolicy)")
    ap.add_argument("--measure", metavar="PATH", help=argparse.SUPPRESS)  # child process mode
    args = ap.parse_args()
    ports = args.ports.split(",")
    if args.measure:
        print(json.dumps(measure(args.measure, ports, args.flows)))
        return 0
    base = args.keep or tempfile.mkdtemp(prefix="engine-bench-")
    header = f"{'tenants':>8} {'objects':>8} {'workloads':>9} {'policies':>8} {'cluster':>7} {'load s':>7} " \
             f"{'engine s':>8} {'matrix s':>8} {'total s':>7} {'cpu s':>6} {'allowed':>8} {'peak RSS MiB':>12}"
    if args.flows:
        header += f" {'flows s':>7}"
    print(f"ports: {', '.join(ports)}; matrix over every workload + 2 external addresses as source and destination")
    api = generated_config(1, args.admin_policies).cluster.admin_policy_api
    print(f"admin policies: {api}{'' if args.admin_policies else ' (unset: calico default)'}; policies = "
          "NetworkPolicies, cluster = cluster policies; cpu s = the CPU time of load + engine + matrix (next to total "
          "s, their wall time, it shows how busy the machine was)")
    print(header)
    for n in (int(s) for s in args.sizes.split(",")):
        path = os.path.join(base, f"tenants-{n}")
        objects = write_cluster(n, path, args.admin_policies)
        cmd = [sys.executable, __file__, "--measure", path, "--ports", args.ports] + (["--flows"] if args.flows else [])
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        line = (f"{n:>8} {objects:>8} {r['workloads']:>9} {r['policies']:>8} {r['cluster_policies']:>7} "
                f"{r['load']:>7.2f} {r['engine']:>8.2f} {r['matrix']:>8.2f} "
                f"{r['load'] + r['engine'] + r['matrix']:>7.2f} {r['cpu']:>6.2f} {r['allowed']:>8} "
                f"{r['rss_mib']:>12.0f}")
        if args.flows:
            line += f" {r['flows']:>7.2f}"
        print(line, flush=True)
    if not args.keep:
        import shutil
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
