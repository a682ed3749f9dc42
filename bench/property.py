"""Long isolation-property campaign: random valid configs -> program objects -> engine -> intent and invariants.

    venv/bin/python bench/property.py [--examples 10000]

Runs the same properties as tests/property (allowed flows == declared flows, intruder reaches nothing, every
`tenancy check` invariant holds with and without the config) for many
more examples and prints how much was checked and how long it took. Exits 1 on the first counterexample.

Self-contained on purpose: nothing outside tests/ imports tests/ (the "Nothing imports tests" layering), so the
random configs (`stack_config`, as tests/property/strategies.py draws them) and the analysis of a config with the
cluster around it (as tests/scenarios/analysis.py's `analyse_config`) are written out here. A change to what the
property tests draw or check belongs in both places.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.checks.cluster_context import context_objects
from analysis.checks.intent import declared_flows, probe_addresses, program_namespaces
from analysis.checks.invariants import check
from analysis.reachability import Engine, PortSet, load_objects
from kube.endpoints import Endpoint
from specs.plan import stack_objects
from stackconfig import StackConfig, parse_config

# ------------------------------------------------------------------------------ random valid configs (hypothesis)

PORTS = st.integers(min_value=1024, max_value=65535)


@st.composite
def app_config(draw, name: str, lb_pool: list[int]) -> dict:
    metrics = draw(PORTS)
    serving = st.integers(min_value=1, max_value=65535).filter(lambda p: p != metrics)
    app: dict = {
        "name": name,
        "metricsPort": metrics,
        "frontend": {"image": "nginxinc/nginx-unprivileged:1.27", "port": draw(serving), "replicas": 1},
        "backend": {"image": "example/api:1", "port": draw(serving), "replicas": 1,
                    "internetEgress": draw(st.booleans())},
        "database": {"port": draw(serving), "storage": "1Gi"},
    }
    if lb_pool and draw(st.booleans()):
        # Disjoint /24s from TEST-NET-3 and the benchmarking range: never overlapping, never private.
        count = draw(st.integers(min_value=1, max_value=min(2, len(lb_pool))))
        ranges = [f"198.18.{lb_pool.pop()}.0/24" for _ in range(count)]
        if draw(st.booleans()):
            ranges.append(f"2001:db8:{lb_pool.pop() if lb_pool else 4000:x}::/48")
        app["frontend"]["loadBalancer"] = {"sourceRanges": ranges}
    return app


@st.composite
def stack_config(draw) -> dict:
    """1-8 tenants, 1-3 apps each, random ports, LB ranges, internet egress flags and consumers; valid by
    construction."""
    tenant_count = draw(st.integers(min_value=1, max_value=8))
    lb_pool = list(range(256))
    tenants = []
    for t in range(tenant_count):
        app_count = draw(st.integers(min_value=1, max_value=3))
        apps = [draw(app_config(f"app{a}", lb_pool)) for a in range(app_count)]
        tenants.append({
            "name": f"tenant{t}",
            "quota": {"cpu": "100", "memory": "200Gi", "pods": 500, "storage": "1Ti"},
            "apps": apps,
        })
    every_app = [(t["name"], a["name"]) for t in tenants for a in t["apps"]]
    for tenant in tenants:
        for app in tenant["apps"]:
            others = [ta for ta in every_app if ta != (tenant["name"], app["name"])]
            if others and draw(st.booleans()):
                chosen = draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
                app["consumers"] = [{"tenant": t, "app": a, "tier": draw(st.sampled_from(["backend", "frontend"]))}
                                    for t, a in chosen]
    cluster = {
        "cni": draw(st.sampled_from(["calico", "cilium", "antrea"])),
        "egressProxy": {"port": draw(st.sampled_from([3128, 8080, 8888])),
                        "internetPorts": draw(st.lists(st.sampled_from([80, 443, 8443]), min_size=1, max_size=3, unique=True))},
    }
    return {"cluster": cluster, "tenants": tenants}


# ------------------------------------------------------------------- a config analysed with the cluster around it

INTRUDER = "intruder/attacker"
# A namespace the program knows nothing about, with a pod free of any policy: what a foreign workload can do.
INTRUDER_OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "intruder"}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "attacker", "namespace": "intruder",
                                                     "labels": {"app.kubernetes.io/component": "backend"}},
     "spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 8080}]}]}},
]


@dataclass
class Analysis:
    config: StackConfig
    engine: Engine
    externals: list[str]
    flows: dict[tuple[str, str], PortSet]

    def owned(self, endpoint: str) -> bool:
        parsed = Endpoint.parse(endpoint)
        return parsed.is_workload and parsed.namespace in program_namespaces(self.config)

    def program_flows(self) -> dict[tuple[str, str], PortSet]:
        """Allowed flows with a program-owned workload at either end (context pods' own traffic is not ours)."""
        return {k: v for k, v in self.flows.items() if self.owned(k[0]) or self.owned(k[1])}

    def declared(self) -> dict[tuple[str, str], PortSet]:
        out = {}
        for pair, ports in declared_flows(self.config, self.externals).items():
            ranges: dict[str, list[tuple[int, int]]] = {}
            for proto, port in ports:
                ranges.setdefault(proto, []).append((port, port))
            out[pair] = PortSet(ranges)
        return out

    def tenant_workloads(self) -> list[str]:
        tenants = {t.name for t in self.config.tenants}
        return [w for w in self.engine.workloads if Endpoint.parse(w).namespace in tenants]


def analyse_config(raw: dict) -> Analysis:
    """The program's objects for a raw stack config (specs.plan, no Pulumi), with DNS, monitoring and the intruder."""
    config = parse_config(raw).config
    engine = Engine(load_objects([*stack_objects(config), *context_objects(config.cluster), *INTRUDER_OBJECTS]))
    externals = probe_addresses(config)
    return Analysis(config, engine, externals, engine.flows(externals))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args()
    stats = {"invariant_runs": 0, "examples": 0, "tenants": 0, "apps": 0, "workloads": 0, "declared": 0, "pairs": 0}

    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(stack_config())
    def campaign(raw):
        analysis = analyse_config(raw)
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
