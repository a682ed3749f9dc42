"""Normalised cluster model: namespaces, workloads (pod templates), NetworkPolicies and every raw resource.

Everything here is already validated and defaulted by `manifests`: protocols are filled in, policyTypes are
defaulted, absent-vs-empty distinctions that matter are encoded as None vs empty tuple.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .clusterpolicy import ClusterPolicy
from .ipblocks import Address, IPBlock
from .ports import ContainerPort, PortSpec
from .selectors import Selector

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass
class Namespace:
    name: str
    labels: dict[str, str]
    declared: bool = True


@dataclass
class Workload:
    namespace: str
    name: str
    kind: str
    labels: dict[str, str]
    ports: tuple[ContainerPort, ...] = ()
    source: str = ""
    # The endpoint name ("ns/name"); the loader disambiguates same-named workloads of different kinds.
    endpoint: str = ""
    # For a pod analysed on its own because its labels differ from its siblings': its controller ("ns/name").
    owner: str | None = None
    # `hostNetwork: true`: NetworkPolicy does not apply to the pod (it is never isolated) and its traffic carries
    # its node's address, so pod and namespace selectors never match it; only ipBlocks holding a node address do.
    host_network: bool = False
    node_addresses: tuple[Address, ...] = ()  # from a live pod's status (podIPs, hostIP); empty for templates

    def __post_init__(self) -> None:
        if not self.endpoint:
            self.endpoint = f"{self.namespace}/{self.name}"

    def named_ports(self) -> dict[tuple[str, str], frozenset[int]]:
        out: dict[tuple[str, str], set[int]] = {}
        for p in self.ports:
            if p.name:
                out.setdefault((p.name, p.protocol), set()).add(p.port)
        return {k: frozenset(v) for k, v in out.items()}


@dataclass(frozen=True)
class Peer:
    """One `from`/`to` item. pod_selector None + namespace_selector None only happens with an ipBlock."""

    pod_selector: Selector | None = None
    namespace_selector: Selector | None = None
    ip_block: IPBlock | None = None

    def __str__(self) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        pods = "all pods" if self.pod_selector is None or self.pod_selector.is_empty else f"pods with {self.pod_selector}"
        if self.namespace_selector is None:
            return f"{pods} in the policy's namespace"
        if self.namespace_selector.is_empty:
            return f"{pods} in all namespaces"
        return f"{pods} in namespaces with {self.namespace_selector}"


@dataclass(frozen=True)
class Rule:
    # None: the rule has no (or an empty) from/to and admits every peer; likewise ports None = every port.
    peers: tuple[Peer, ...] | None = None
    ports: tuple[PortSpec, ...] | None = None


@dataclass
class Policy:
    namespace: str
    name: str
    pod_selector: Selector
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    affects_ingress: bool = True
    affects_egress: bool = False
    source: str = ""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class Resource:
    """Any object read (including skipped kinds), kept for `diff`."""

    kind: str
    namespace: str | None
    name: str
    obj: dict[str, Any]
    source: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace or "", self.name)


@dataclass
class Cluster:
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    # AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy: cluster-scoped, evaluated in tiers
    cluster_policies: list[ClusterPolicy] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # kind -> count of objects not modelled
    warnings: list[str] = field(default_factory=list)  # readable but suspicious: an object given twice
    folded: int = 0  # objects folded into a present owner (pods into their Deployment, ...)
    finished: int = 0  # Succeeded/Failed pods and completed Jobs: no longer running, so no flows
    # Controllers whose pods differ in labels: controller endpoint -> its pods' endpoints (each analysed alone).
    split: dict[str, list[str]] = field(default_factory=dict)
    # A running pod's endpoint -> the controller endpoint its identical siblings are shown as.
    aliases: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what a reader of any answer should know about the input
