"""Benchmark the reachability engine on generated clusters (a script, not a test).

    venv/bin/python bench/engine.py [--sizes 10,100,1000] [--ports 8080/TCP,5432/TCP,53/UDP] [--flows]

Each tenant gets a namespace with a three-tier app (frontend/backend Deployments, database StatefulSet) and the
policies the tenancy program renders for it: default deny, DNS egress, monitoring ingress, tier flows, LB ingress,
egress via the proxy, and a cross-tenant consumer allowance for every tenth tenant (~8-9 policies per tenant).
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

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
TIERS = (("frontend", "Deployment", 8080), ("backend", "Deployment", 8080), ("database", "StatefulSet", 5432))


def _np(ns, name, spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _sel(app, tier):
    return {"matchLabels": {"app.kubernetes.io/part-of": app, "app.kubernetes.io/component": tier}}


def _workload(ns, app, tier, kind, port, tenant):
    labels = {"app.kubernetes.io/name": f"{app}-{tier}", "app.kubernetes.io/part-of": app,
              "app.kubernetes.io/component": tier, "tenancy/tenant": tenant}
    # Separate dicts per use: a shared one would be dumped as a YAML anchor/alias, which kubectl never emits.
    labels2 = dict(labels)
    ports = [{"name": "http" if tier != "database" else "db", "containerPort": port},
             {"name": "metrics", "containerPort": 9090}]
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": f"{app}-{tier}", "namespace": ns, "labels": labels},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": f"{app}-{tier}"}},
                     "template": {"metadata": {"labels": labels2},
                                  "spec": {"containers": [{"name": tier, "image": "example/app:1", "ports": ports}]}}}}


def tenant_objects(i: int, n: int) -> list[dict]:
    t = f"t{i:04d}"
    app = f"app{i:04d}"
    ns = t
    objs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": ns, "labels": {"tenancy/tenant": t, "pod-security.kubernetes.io/enforce": "restricted"}}}]
    objs += [_workload(ns, app, tier, kind, port, t) for tier, kind, port in TIERS]
    objs += [
        _np(ns, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _np(ns, "allow-dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]}),
        _np(ns, "allow-monitoring", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                      "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
            "ports": [{"port": "metrics"}]}]}),
        _np(ns, f"{app}-frontend-lb", {"podSelector": _sel(app, "frontend"), "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 8080}]}]}),
        _np(ns, f"{app}-frontend-to-backend", {"podSelector": _sel(app, "frontend"), "policyTypes": ["Egress"],
                                               "egress": [{"to": [{"podSelector": _sel(app, "backend")}],
                                                           "ports": [{"port": 8080}]}]}),
        _np(ns, f"{app}-backend-from-frontend", {"podSelector": _sel(app, "backend"), "policyTypes": ["Ingress"],
                                                 "ingress": [{"from": [{"podSelector": _sel(app, "frontend")}],
                                                              "ports": [{"port": "http"}]}]}),
        _np(ns, f"{app}-backend-to-database", {"podSelector": _sel(app, "backend"), "policyTypes": ["Egress"], "egress": [
            {"to": [{"podSelector": _sel(app, "database")}], "ports": [{"port": 5432}]},
            {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "egress-proxy"}},
                     "podSelector": {"matchLabels": {"app.kubernetes.io/name": "egress-proxy"}}}],
             "ports": [{"port": 3128}]}]}),
        _np(ns, f"{app}-database-from-backend", {"podSelector": _sel(app, "database"), "policyTypes": ["Ingress"],
                                                 "ingress": [{"from": [{"podSelector": _sel(app, "backend")}],
                                                              "ports": [{"port": 5432}]}]}),
    ]
    if i % 10 == 0 and n > 1:
        j = (i + 1) % n
        objs.append(_np(ns, f"{app}-backend-consumers", {"podSelector": _sel(app, "backend"), "policyTypes": ["Ingress"],
                                                         "ingress": [{"from": [{
                                                             "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": f"t{j:04d}"}},
                                                             "podSelector": _sel(f"app{j:04d}", "backend")}],
                                                             "ports": [{"port": 8080}]}]}))
    return objs


def platform_objects() -> dict[str, list[dict]]:
    def pod(ns, name, labels, ports):
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
                "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
                    {"name": name, "image": "x", "ports": ports}]}}}}
    return {
        "kube-system": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
                        pod("kube-system", "coredns", {"k8s-app": "kube-dns"},
                            [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                             {"name": "dns-tcp", "containerPort": 53}])],
        "monitoring": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}},
                       pod("monitoring", "prometheus", {"app.kubernetes.io/name": "prometheus"},
                           [{"name": "web", "containerPort": 9090}])],
        "egress-proxy": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "egress-proxy"}},
                         pod("egress-proxy", "egress-proxy", {"app.kubernetes.io/name": "egress-proxy"},
                             [{"name": "proxy", "containerPort": 3128}]),
                         _np("egress-proxy", "proxy", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                                       "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": 3128}]}],
                                                       "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [
                                                           "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}]}]})],
    }


def write_cluster(n: int, out: str) -> int:
    os.makedirs(out, exist_ok=True)
    count = 0
    files = platform_objects()
    files.update({f"t{i:04d}": tenant_objects(i, n) for i in range(n)})
    for name, objs in files.items():
        with open(os.path.join(out, f"{name}.yaml"), "w") as fh:
            yaml.dump_all(objs, fh, Dumper=DUMPER, sort_keys=False)
        count += len(objs)
    return count


def measure(path: str, ports: list[str], flows: bool) -> dict:
    from analysis.reachability import Engine, load_paths, parse_protocol_port

    t0 = time.perf_counter()
    cluster = load_paths([path])
    t1 = time.perf_counter()
    engine = Engine(cluster)
    t2 = time.perf_counter()
    matrices = engine.matrix([parse_protocol_port(p) for p in ports], ["203.0.113.7", "8.8.8.8"])
    allowed = sum(m.count_allowed() for m in matrices.values())
    t3 = time.perf_counter()
    result = {"workloads": len(engine.workloads), "policies": len(cluster.policies), "load": t1 - t0,
              "engine": t2 - t1, "matrix": t3 - t2, "allowed": allowed}
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
    ap.add_argument("--measure", metavar="PATH", help=argparse.SUPPRESS)  # child process mode
    args = ap.parse_args()
    ports = args.ports.split(",")
    if args.measure:
        print(json.dumps(measure(args.measure, ports, args.flows)))
        return 0
    base = args.keep or tempfile.mkdtemp(prefix="engine-bench-")
    header = f"{'tenants':>8} {'objects':>8} {'workloads':>9} {'policies':>8} {'load s':>7} {'engine s':>8} " \
             f"{'matrix s':>8} {'total s':>7} {'allowed':>8} {'peak RSS MiB':>12}"
    if args.flows:
        header += f" {'flows s':>7}"
    print(f"ports: {', '.join(ports)}; matrix over every workload + 2 external addresses as source and destination")
    print(header)
    for n in (int(s) for s in args.sizes.split(",")):
        path = os.path.join(base, f"tenants-{n}")
        objects = write_cluster(n, path)
        cmd = [sys.executable, __file__, "--measure", path, "--ports", args.ports] + (["--flows"] if args.flows else [])
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        line = (f"{n:>8} {objects:>8} {r['workloads']:>9} {r['policies']:>8} {r['load']:>7.2f} {r['engine']:>8.2f} "
                f"{r['matrix']:>8.2f} {r['load'] + r['engine'] + r['matrix']:>7.2f} {r['allowed']:>8} {r['rss_mib']:>12.0f}")
        if args.flows:
            line += f" {r['flows']:>7.2f}"
        print(line, flush=True)
    if not args.keep:
        import shutil
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
