"""What the invariant rules look at: the intent, the manifests analysed by the engine, and the flows it finds.

Intent is read one of two ways, chosen once per check; the rules ask both the same questions (`Intent`).
`DeclaredIntent` is a stack config's (`check --stack`): tenants, apps, ports, load-balancer ranges, consumers and
internet egress exactly as declared. `LabelledIntent` reads the program's naming conventions (`kube/labels.py`)
back from the manifests: tenant namespaces carry `tenancy/tenant`, tiers are
`app.kubernetes.io/part-of` + `component`, serving and metrics ports are the container ports named `serve` and
`metrics`, load-balancer ranges are the frontend Service's `loadBalancerSourceRanges`, internet egress is the
`tenancy/internet-egress` pod label, and the program's own policies (labelled `managed-by: tenancy`) stand for
the declared cross-tenant consumers.

The cluster around the program (DNS, Prometheus) is added from the config, or from its defaults, unless the
manifests already hold it, so flows to DNS and from monitoring are proved rather than assumed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable

from analysis.checks.admission import Admission, Refusal, exists
from analysis.checks.intent import PRIVATE_PROBES, PUBLIC_PROBES, probe_addresses
from policies.egress_proxy import ALWAYS_EXCLUDED
from kube.labels import (
    COMPONENT,
    INTERNET_EGRESS,
    MANAGED_BY,
    MANAGER,
    METRICS_PORT_NAME,
    PART_OF,
    TENANT,
    proxy_selector,
)
from analysis.reachability import Engine, PortSet, load_objects
from analysis.reachability.ipblocks import Network
from analysis.reachability.model import Cluster as Analysed
from analysis.reachability.model import Policy, Workload
from analysis.reachability.selectors import Selector, parse_selector
from analysis.reachability.witnesses import is_witness, witness_objects
from analysis.checks.cluster_context import default_cluster, missing_context
from specs.pods import SERVING_PORT_NAME
from specs.plan import stack_objects
from stackconfig.models import App, ClusterConfig, StackConfig

TIERS = ("frontend", "backend", "database")
NOTHING = PortSet()


def tcp(port: int | None) -> PortSet:
    return PortSet.of("TCP", port) if port else PortSet()


def _selector(labels: dict[str, str]) -> Selector:
    return parse_selector({"matchLabels": dict(labels)}, "selector", [])


@dataclass(frozen=True)
class Tier:
    tenant: str
    app: str
    tier: str


def _carve(net: Network, holes: Iterable[Network]) -> list[Network]:
    """`net` minus every hole, as disjoint networks (ascending)."""
    parts = [net]
    for hole in holes:
        if hole.version != net.version:
            continue
        kept: list[Network] = []
        for part in parts:
            if not part.overlaps(hole):
                kept.append(part)
            elif not part.subnet_of(hole):  # type: ignore[arg-type]  # same IP version (checked above)
                kept.extend(part.address_exclude(hole))  # type: ignore[arg-type]  # same IP version
        parts = kept
    return sorted(parts)


def _witness(parts: list[Network], known: list[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> str | None:
    """An address inside `parts`: a known probe when one lies there (familiar in messages), else a computed one."""
    for address in known:
        if any(address.version == p.version and address in p for p in parts):
            return str(address)
    if not parts:
        return None
    first = parts[0]
    return str(first.network_address + 1 if first.num_addresses > 2 else first.network_address)


def named_port(w: Workload, name: str) -> int | None:
    return next((p.port for p in w.ports if p.name == name and p.protocol == "TCP"), None)


def _proxy_selector() -> Selector:
    return parse_selector(proxy_selector(), "selector", [])


class Intent(ABC):
    """What the program means its objects to do: the questions `Facts` asks, answered the same way for a whole
    check. Answers that depend on the manifests take the `Facts` asking; one intent serves one `Facts`, since a
    reading of labels keeps what it read from that `Facts`' manifests."""

    cluster: ClusterConfig  # DNS, monitoring and the egress proxy around the tenants
    apps: dict[tuple[str, str], App]  # (tenant, app) -> as declared; empty where apps are known by labels only
    internet_egress_means: str  # what makes a pod one that may use the proxy, as a violation words it

    @abstractmethod
    def tenants(self, f: Facts) -> frozenset[str]: ...

    @abstractmethod
    def declares_app(self, tenant: str, app: str) -> bool: ...

    @abstractmethod
    def proxies(self, f: Facts) -> list[Workload]: ...

    @abstractmethod
    def proxy_namespaces(self) -> frozenset[str]:
        """Namespaces the proxy owns even where none of its pods is in the manifests."""

    @abstractmethod
    def proxy_port(self, f: Facts) -> int | None: ...

    @abstractmethod
    def serve_port(self, f: Facts, w: Workload) -> int | None: ...

    @abstractmethod
    def metrics_port(self, f: Facts, w: Workload) -> int | None: ...

    @abstractmethod
    def load_balancer_ranges(self, f: Facts, t: Tier) -> list[Network]: ...

    @abstractmethod
    def internet_egress(self, f: Facts, w: Workload) -> bool: ...

    @abstractmethod
    def declared_consumer_ports(self, f: Facts, src: Workload, dst: Workload) -> PortSet:
        """Ports on which `src` (of another tenant) is declared a consumer of `dst`."""

    @abstractmethod
    def is_program_policy(self, obj: dict) -> bool: ...

    @abstractmethod
    def probes(self) -> list[str]:
        """External addresses the intent itself makes worth asking about."""


class DeclaredIntent(Intent):
    """The intent a stack config declares (`check --stack`)."""

    def __init__(self, config: StackConfig):
        self.config = config
        self.cluster = config.cluster
        self.apps = {(t.name, a.name): a for t in config.tenants for a in t.apps}
        self.internet_egress_means = "a backend declared with internetEgress: true"

    def tenants(self, f: Facts) -> frozenset[str]:
        return frozenset(t.name for t in self.config.tenants)

    def declares_app(self, tenant: str, app: str) -> bool:
        return (tenant, app) in self.apps

    def proxies(self, f: Facts) -> list[Workload]:
        proxy = self.cluster.egress_proxy
        if not proxy.enabled:
            return []
        selector = _proxy_selector()
        return [w for w in f.analysed.workloads if w.namespace == proxy.namespace and selector.matches(w.labels)]

    def proxy_namespaces(self) -> frozenset[str]:
        proxy = self.cluster.egress_proxy
        return frozenset({proxy.namespace}) if proxy.enabled else frozenset()

    def proxy_port(self, f: Facts) -> int | None:
        proxy = self.cluster.egress_proxy
        return proxy.port if proxy.enabled else None

    # Pods outside the declared apps (the proxy, the platform's) declare nothing in the config: their ports are
    # the ones they name, as without a stack.

    def serve_port(self, f: Facts, w: Workload) -> int | None:
        t = f.tier(w)
        if t is not None:
            return getattr(self.apps[(t.tenant, t.app)], t.tier).port
        return named_port(w, SERVING_PORT_NAME)

    def metrics_port(self, f: Facts, w: Workload) -> int | None:
        t = f.tier(w)
        if t is not None:
            return self.apps[(t.tenant, t.app)].metrics_port
        return named_port(w, METRICS_PORT_NAME)

    def load_balancer_ranges(self, f: Facts, t: Tier) -> list[Network]:
        lb = self.apps[(t.tenant, t.app)].frontend.load_balancer
        return list(lb.source_ranges) if lb else []

    def internet_egress(self, f: Facts, w: Workload) -> bool:
        t = f.tier(w)
        return t is not None and t.tier == "backend" and self.apps[(t.tenant, t.app)].backend.internet_egress

    def declared_consumer_ports(self, f: Facts, src: Workload, dst: Workload) -> PortSet:
        t = f.tier(dst)
        if t is None or t.tier != "backend":
            return NOTHING
        app = self.apps[(t.tenant, t.app)]
        source = (src.namespace, src.labels.get(PART_OF), src.labels.get(COMPONENT))
        if any((c.tenant, c.app, c.tier) == source for c in app.consumers):
            return tcp(app.backend.port)
        return NOTHING

    @cached_property
    def _rendered_policies(self) -> dict[tuple[str, str], dict | None]:
        return {(o["metadata"]["namespace"], o["metadata"]["name"]): o.get("spec")
                for o in stack_objects(self.config) if o["kind"] == "NetworkPolicy"}

    def is_program_policy(self, obj: dict) -> bool:
        # Exactly what the program renders for this stack: an edited copy of one of its policies is a tenant's.
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace") or "default", meta.get("name"))
        return key in self._rendered_policies and self._rendered_policies[key] == obj.get("spec")

    def probes(self) -> list[str]:
        return probe_addresses(self.config)


class LabelledIntent(Intent):
    """The intent the program's labels and named ports state in the manifests (no stack config): the reading of
    an export from any cluster, stack unknown."""

    def __init__(self) -> None:
        self.cluster = default_cluster()
        self.apps = {}
        self.internet_egress_means = f"labelled {INTERNET_EGRESS}=true"
        self._service_ranges: dict[tuple[str, str], list[Network]] | None = None

    def tenants(self, f: Facts) -> frozenset[str]:
        # The program labels a tenant's namespace `tenancy/tenant: <its own name>`; a namespace carrying another
        # tenant's name copied that label and is no tenant.
        return frozenset(n.name for n in f.analysed.namespaces.values()
                         if n.declared and n.labels.get(TENANT) == n.name and n.name not in f.witness_namespaces)

    def declares_app(self, tenant: str, app: str) -> bool:
        return True  # an app exists by its labels alone

    def proxies(self, f: Facts) -> list[Workload]:
        selector = _proxy_selector()
        # A tenant cannot make itself a proxy by copying the labels.
        return [w for w in f.analysed.workloads if w.namespace not in f.tenants and selector.matches(w.labels)]

    def proxy_namespaces(self) -> frozenset[str]:
        return frozenset()  # the proxy is known only by its pods

    def proxy_port(self, f: Facts) -> int | None:
        ports = {p for p in (named_port(w, SERVING_PORT_NAME) for w in f.proxies) if p is not None}
        return min(ports) if ports else None

    def serve_port(self, f: Facts, w: Workload) -> int | None:
        return named_port(w, SERVING_PORT_NAME)

    def metrics_port(self, f: Facts, w: Workload) -> int | None:
        return named_port(w, METRICS_PORT_NAME)

    def load_balancer_ranges(self, f: Facts, t: Tier) -> list[Network]:
        if self._service_ranges is None:
            self._service_ranges = self._read_service_ranges(f)
        return self._service_ranges.get((t.tenant, t.app), [])

    @staticmethod
    def _read_service_ranges(f: Facts) -> dict[tuple[str, str], list[Network]]:
        """(tenant, app) -> loadBalancerSourceRanges of LoadBalancer Services selecting the app's frontend."""
        frontends = [(w, f.tier(w)) for w in f.analysed.workloads]
        out: dict[tuple[str, str], list[Network]] = {}
        for r in f.analysed.resources:
            spec = r.obj.get("spec")
            if r.kind != "Service" or not isinstance(spec, dict) or spec.get("type") != "LoadBalancer":
                continue
            selector = spec.get("selector")
            if not isinstance(selector, dict) or not selector:
                continue
            chosen = _selector({str(k): str(v) for k, v in selector.items()})
            for w, t in frontends:
                if t is None or t.tier != "frontend" or w.namespace != r.namespace or not chosen.matches(w.labels):
                    continue
                for cidr in spec.get("loadBalancerSourceRanges") or ():
                    try:
                        out.setdefault((t.tenant, t.app), []).append(ipaddress.ip_network(str(cidr), strict=False))
                    except ValueError:
                        continue  # validation reports it; an unreadable range declares nothing
        return out

    def internet_egress(self, f: Facts, w: Workload) -> bool:
        return w.namespace in f.tenants and w.labels.get(INTERNET_EGRESS) == "true"

    def declared_consumer_ports(self, f: Facts, src: Workload, dst: Workload) -> PortSet:
        # No config names consumers: what the program's own policies let through stands for them.
        return f.program_flows.get((src.endpoint, dst.endpoint), NOTHING)

    def is_program_policy(self, obj: dict) -> bool:
        return ((obj.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY) == MANAGER

    def probes(self) -> list[str]:
        return []


class Facts:
    """Built once per check; every rule reads from it. Raises ManifestError on unreadable manifests."""

    def __init__(self, manifests: list[dict], config: StackConfig | None = None, by_tenants: bool = True):
        # The one place a stack config decides how intent is read; nothing below asks again.
        self.intent: Intent = DeclaredIntent(config) if config is not None else LabelledIntent()
        self.cluster_config = self.intent.cluster
        # A tenant's NetworkPolicy the cluster's admission policy refuses to tenants: a proposal is left out (it
        # could not be applied), one read from a cluster stays in (it is there); both are reported, by
        # namespace/name.
        self.refused_proposals: list[tuple[str, Refusal]] = []
        self.refused_but_present: dict[str, Refusal] = {}
        admission = Admission.of(manifests, lambda obj: not self.intent.is_program_policy(obj))
        if admission and by_tenants:
            left_out: set[int] = set()
            for m in manifests:
                refusal = admission.refusal(m)
                if refusal is None:
                    continue
                ref = f"{m['metadata'].get('namespace')}/{m['metadata'].get('name')}"
                if exists(m):
                    self.refused_but_present[ref] = refusal
                else:
                    self.refused_proposals.append((ref, refusal))
                    left_out.add(id(m))
            self.refused_proposals.sort(key=lambda pair: pair[0])
            if left_out:
                manifests = [m for m in manifests if id(m) not in left_out]
        given = load_objects(manifests)
        self.context = self._missing_context(given)
        around = load_objects([*manifests, *self.context]) if self.context else given
        # Pods that could exist tomorrow, for every peer of every policy: what a selector *could* match is proved,
        # not only what it matches today (see `reachability.witnesses`).
        witness_objs, self.witnesses = witness_objects(around)
        self.objects = [*manifests, *self.context, *witness_objs]
        self.analysed: Analysed = load_objects(self.objects) if witness_objs else around
        self.engine = Engine(self.analysed)
        self.workloads: dict[str, Workload] = {w.endpoint: w for w in self.analysed.workloads}
        self.witness_endpoints = frozenset(w.endpoint for w in self.witnesses)
        self.witness_namespaces = frozenset(o["metadata"]["name"] for o in witness_objs if o["kind"] == "Namespace")

    # ------------------------------------------------------------------------------------------------ context

    def _missing_context(self, given: Analysed) -> list[dict]:
        return missing_context(given, self.cluster_config)

    # ------------------------------------------------------------------------------------------------ intent
    # Answered by `self.intent`; what the rules ask on every flow is kept here once answered.

    @cached_property
    def tenants(self) -> frozenset[str]:
        return self.intent.tenants(self)

    @property
    def apps(self) -> dict[tuple[str, str], App]:
        return self.intent.apps

    @cached_property
    def proxies(self) -> list[Workload]:
        return self.intent.proxies(self)

    @cached_property
    def program_namespaces(self) -> frozenset[str]:
        return frozenset(self.tenants) | {w.namespace for w in self.proxies} | self.intent.proxy_namespaces()

    @cached_property
    def forbidden_to_proxy(self) -> list[Network]:
        return [*self.cluster_config.egress_proxy.cluster_cidrs, *ALWAYS_EXCLUDED]

    def workload(self, endpoint: str) -> Workload | None:
        return self.workloads.get(endpoint)

    def is_witness(self, endpoint: str) -> bool:
        return endpoint in self.witness_endpoints

    def tier(self, w: Workload) -> Tier | None:
        """The declared app tier `w` runs, judged by the labels policies select on."""
        if w.namespace not in self.tenants:
            return None
        app, tier = w.labels.get(PART_OF), w.labels.get(COMPONENT)
        if app is None or tier not in TIERS or not self.intent.declares_app(w.namespace, app):
            return None
        return Tier(w.namespace, app, tier)

    def serve_port(self, w: Workload) -> int | None:
        return self.intent.serve_port(self, w)

    def metrics_port(self, w: Workload) -> int | None:
        return self.intent.metrics_port(self, w)

    def load_balancer_ranges(self, t: Tier) -> list[Network]:
        return self.intent.load_balancer_ranges(self, t)

    def internet_egress(self, w: Workload) -> bool:
        return self.intent.internet_egress(self, w)

    @cached_property
    def proxy_port(self) -> int | None:
        return self.intent.proxy_port(self)

    def is_proxy(self, w: Workload) -> bool:
        return any(w is p for p in self.proxies)

    def is_dns(self, w: Workload) -> bool:
        dns = self.cluster_config.dns
        return w.namespace == dns.namespace and _selector(dns.pod_labels).matches(w.labels)

    def is_monitoring(self, w: Workload) -> bool:
        monitoring = self.cluster_config.monitoring
        return w.namespace == monitoring.namespace and _selector(monitoring.pod_labels).matches(w.labels)

    @property
    def dns_ports(self) -> PortSet:
        port = self.cluster_config.dns.port
        return PortSet.of(("UDP", "TCP"), port)

    def declared_consumer_ports(self, src: Workload, dst: Workload) -> PortSet:
        """Ports on which `src` (of another tenant) is declared a consumer of `dst`."""
        return self.intent.declared_consumer_ports(self, src, dst)

    # ------------------------------------------------------------------------------------------------ program's own

    def is_program_policy(self, obj: dict) -> bool:
        """Rendered by the program: with a stack, exactly what it renders for that stack (same namespace, name and
        spec); without, anything carrying its managed-by label."""
        if is_witness(obj):
            return True  # a witness's own opening stands for what its namespace's admins may write: the baseline
        return self.intent.is_program_policy(obj)

    def claims_program(self, policy: Policy) -> bool:
        """Carries the program's managed-by label, whatever its contents."""
        for r in self.analysed.resources:
            if r.kind == "NetworkPolicy" and (r.namespace, r.name) == (policy.namespace, policy.name):
                return ((r.obj.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY) == MANAGER
        return False

    @cached_property
    def program_policy_refs(self) -> frozenset[str]:
        refs = set()
        for r in self.analysed.resources:
            if r.kind == "NetworkPolicy" and self.is_program_policy(r.obj):
                refs.add(f"{r.namespace}/{r.name}")
        return frozenset(refs)

    @cached_property
    def program_flows(self) -> dict[tuple[str, str], PortSet]:
        """Flows with only the program's own policies in place: the baseline a widening is measured against."""
        return Engine(self._variant(only_program=True)).flows(self.externals)

    def _variant(self, only_program: bool = False, cluster_policies: bool = True) -> Analysed:
        """The analysed cluster with fewer policies: what loading the objects without them would give, since
        policies change nothing else the engine reads; parsing 20,000 objects again for each variant was a third
        of `check` at 1,000 tenants."""
        refs = self.program_policy_refs
        return dataclasses.replace(
            self.analysed,
            policies=[p for p in self.analysed.policies if p.ref in refs] if only_program else self.analysed.policies,
            cluster_policies=self.analysed.cluster_policies if cluster_policies else [])

    # What the NetworkPolicies alone allow, as if no cluster policy (Admin or Baseline tier) were there: a tenant's
    # NetworkPolicy is judged by what it tries to open, then by whether a cluster policy stops it.

    @cached_property
    def namespace_policy_engine(self) -> Engine:
        return Engine(self._variant(cluster_policies=False))

    @cached_property
    def namespace_policy_flows(self) -> dict[tuple[str, str], PortSet]:
        return self.namespace_policy_engine.flows(self.externals)

    @cached_property
    def program_namespace_policy_flows(self) -> dict[tuple[str, str], PortSet]:
        return Engine(self._variant(only_program=True, cluster_policies=False)).flows(self.externals)

    # ------------------------------------------------------------------------------------------------ flows

    @cached_property
    def externals(self) -> list[str]:
        """External addresses to ask about: the usual probes, plus one witness for every region the policies'
        ipBlocks cut the address space into (inside a load-balancer range, a forbidden range, or neither), so an
        ipBlock that admits anything is seen admitting something."""
        probes = set(PUBLIC_PROBES) | set(PRIVATE_PROBES) | set(self.intent.probes())
        zones = list(self.forbidden_to_proxy)
        for t in {t for t in map(self.tier, self.analysed.workloads) if t is not None}:
            if t.tier == "frontend":
                ranges = self.load_balancer_ranges(t)
                zones += ranges
                witnesses = (_witness(_carve(r, ()), []) for r in ranges)
                probes |= {a for a in witnesses if a is not None}
        known = sorted((ipaddress.ip_address(p) for p in probes), key=lambda a: (a.version, a))
        # Tenants share load-balancer ranges and their policies repeat the same few ipBlocks: each distinct zone
        # and block is carved once (at 300 tenants, 90,000 carvings became a few dozen).
        zones = sorted(set(zones), key=lambda z: (z.version, z))
        blocks = {peer.ip_block for policy in self.analysed.policies for rule in (*policy.ingress, *policy.egress)
                  for peer in rule.peers or () if peer.ip_block is not None}
        for block in blocks:
            regions = [_carve(block.cidr, [*block.excepts, *zones])]
            for zone in zones:
                if zone.version != block.cidr.version or not zone.overlaps(block.cidr):
                    continue
                inner = zone if zone.subnet_of(block.cidr) else block.cidr  # type: ignore[arg-type]  # same version
                regions.append(_carve(inner, block.excepts))
            for parts in regions:
                found = _witness(parts, known)
                if found is not None:
                    probes.add(found)
        return sorted(probes, key=lambda a: (ipaddress.ip_address(a).version, ipaddress.ip_address(a)))

    @cached_property
    def flows(self) -> dict[tuple[str, str], PortSet]:
        return self.engine.flows(self.externals)
