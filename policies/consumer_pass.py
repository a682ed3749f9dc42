"""Declared cross-tenant flows in the admin tier (seed scenario 6's allowance, tenant-proof)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kube.labels import TENANT, namespace_selector, tier_selector
from policies.cluster_policy import (
    ADMIN,
    CONSUMER_PRIORITY,
    PASS,
    Limits,
    check_size,
    chunks,
    cluster_network_policy,
    pods,
    rule,
    tcp,
)
from stackconfig.models import StackConfig


@dataclass(frozen=True, order=True)
class Group:
    """The pods of one tier of one app of one tenant."""

    tenant: str
    app: str
    tier: str

    def peer(self) -> dict:
        return pods(namespace_selector(self.tenant), tier_selector(self.app, self.tier))


@dataclass(frozen=True)
class ConsumerFlows:
    into: dict[Group, tuple[int, list[Group]]]  # consumed backend -> (its port, its cross-tenant consumers)
    out_of: dict[Group, dict[int, list[Group]]]  # consumer -> port -> backends it may reach on that port


def consumer_flows(config: StackConfig) -> ConsumerFlows:
    """Every declared consumer between two different tenants (within a tenant the admin tier does not
    interfere, so those need nothing here)."""
    into: dict[Group, tuple[int, list[Group]]] = {}
    out_of: dict[Group, dict[int, list[Group]]] = defaultdict(lambda: defaultdict(list))
    for tenant in config.tenants:
        for app in tenant.apps:
            backend = Group(tenant.name, app.name, "backend")
            sources = sorted({Group(c.tenant, c.app, c.tier) for c in app.consumers if c.tenant != tenant.name})
            if not sources:
                continue
            into[backend] = (app.backend.port, sources)
            for source in sources:
                out_of[source][app.backend.port].append(backend)
    return ConsumerFlows(into, {g: {p: sorted(b) for p, b in ports.items()} for g, ports in out_of.items()})


def _numbered(name: str, i: int) -> str:
    return name if i == 0 else f"{name}-{i + 1}"


def consumer_passes(config: StackConfig, limits: Limits) -> list[dict]:
    """Scenario 6 "per-customer isolation", the declared exception: for each group of pods on either end of a
    declared cross-tenant consumer, Pass exactly that flow (those peers, that TCP port) to the namespace
    policies, ahead of the tenant boundaries' Deny (CONSUMER_PRIORITY < BOUNDARY_PRIORITY).

    Pass, not Accept: the admin tier only bounds what may ever be open; the program's NetworkPolicies (both
    halves of the flow) still open it, so the allowed flows stay declared in one tier and `explain` names the
    same rules as without admin policies. A tenant can close its end of the flow but cannot widen it; if the
    namespace policies are deleted, the baseline tier denies it (fail closed). Accept would keep the flow open
    whatever either tenant's own policies say.

    One object per group, so the rules' subject is exactly the pods at that end; peers beyond the API's limit
    per rule are split over more rules."""
    flows = consumer_flows(config)
    groups = sorted({*flows.into, *flows.out_of})
    policies = []
    for group in groups:
        ingress = []
        if group in flows.into:
            port, sources = flows.into[group]
            ingress = [rule(_numbered("pass-declared-consumers", i), PASS, [s.peer() for s in chunk], "ingress",
                            [tcp(port)])
                       for i, chunk in enumerate(chunks(sources, limits.peers))]
        egress = []
        for port, backends in sorted(flows.out_of.get(group, {}).items()):
            egress += [rule(_numbered(f"pass-declared-to-port-{port}", i), PASS, [b.peer() for b in chunk], "egress",
                            [tcp(port)])
                       for i, chunk in enumerate(chunks(backends, limits.peers))]
        policy = cluster_network_policy(
            f"tenancy-consumers.{group.tenant}.{group.app}.{group.tier}", "consumer-pass", ADMIN, CONSUMER_PRIORITY,
            group.peer(), ingress=ingress, egress=egress, labels={TENANT: group.tenant},
        )
        check_size(policy, limits)
        policies.append(policy)
    return policies
