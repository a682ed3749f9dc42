"""A stack config proved on its own objects: the program's objects for it (`specs.plan`, no Pulumi) with the
cluster around them (DNS, monitoring and an intruder namespace the program knows nothing about), through the
engine, next to the flows the config declares.

    proof = prove(config)
    proof.program_flows() == proof.declared()            # every declared flow allowed exactly, nothing else
    proof.engine.allowed_ports(INTRUDER, "acme/shop-db")   # PortSet(): the intruder reaches nothing

The seed scenarios, the property tests and bench/property.py all ask these questions of a config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from analysis.checks.cluster_context import context_objects
from analysis.checks.intent import declared_flows, probe_addresses, program_namespaces
from analysis.reachability import Engine, PortSet, load_objects
from kube.endpoints import Endpoint
from specs.plan import stack_objects
from stackconfig.models import StackConfig

INTRUDER = "intruder/attacker"


def intruder_objects() -> list[dict]:
    """A namespace the program knows nothing about, with a pod free of any policy that wears a tier's label: what
    a compromised or foreign workload can do."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "intruder"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "attacker", "namespace": "intruder",
                                                         "labels": {"app.kubernetes.io/component": "backend"}},
         "spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 8080}]}]}},
    ]


@dataclass
class Proof:
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
        return declared_flows(self.config, self.externals)

    def tenant_workloads(self) -> list[str]:
        tenants = {t.name for t in self.config.tenants}
        return [w for w in self.engine.workloads if Endpoint.parse(w).namespace in tenants]


def prove(config: StackConfig, objects: Iterable[dict] | None = None, extra: Iterable[dict] = ()) -> Proof:
    """`objects` are the program's objects for `config` (default: `specs.plan`'s); `extra` joins the cluster."""
    program = stack_objects(config) if objects is None else list(objects)
    engine = Engine(load_objects([*program, *context_objects(config.cluster), *intruder_objects(), *extra]))
    externals = probe_addresses(config)
    return Proof(config, engine, externals, engine.flows(externals))
