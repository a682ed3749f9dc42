"""A render analysed by the reachability engine, with the cluster around it: DNS, monitoring and an intruder."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.checks.intent import declared_flows, probe_addresses, program_namespaces
from analysis.reachability import Engine, PortSet, load_objects
from kube.endpoints import Endpoint
from analysis.checks.cluster_context import context_objects
from specs.plan import stack_objects
from stackconfig import StackConfig, parse_config
from tenancy.render import Render

INTRUDER = "intruder/attacker"


def intruder_objects() -> list[dict]:
    """A namespace the program knows nothing about, with a pod free of any policy: what a compromised or
    foreign workload can do."""
    return [
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


def analyse(render: Render, extra: list[dict] = ()) -> Analysis:
    config = render.parsed.config
    engine = Engine(load_objects([*render.manifests(), *context_objects(config.cluster), *intruder_objects(), *extra]))
    externals = probe_addresses(config)
    return Analysis(config, engine, externals, engine.flows(externals))


def analyse_config(raw: dict) -> Analysis:
    """The program's objects for a raw stack config (specs.plan, no Pulumi), analysed with the cluster around them:
    what the property tests check (bench/property.py has its own copy: nothing outside tests/ imports tests/)."""
    config = parse_config(raw).config
    objects = [*stack_objects(config), *context_objects(config.cluster), *intruder_objects()]
    engine = Engine(load_objects(objects))
    externals = probe_addresses(config)
    return Analysis(config, engine, externals, engine.flows(externals))
