"""Issue 13 as a property: for random stacks, tenants plant random NetworkPolicies of their own (and delete their
namespace's default-deny), and `check` is held to an exact account of what that opens.

tests/analysis/checks/test_tenant_proof.py proves this for one plant on the dev render; here the stacks come from
the random configs of `stackconfig.strategies.stack_config` (cut to 2-4 tenants, with their consumers, load balancers and
internet egress) and the objects from `specs.plan` (proven equal to the Pulumi render in tests/program). Each
planted policy selects every pod of its namespace and is one of:

- allow-all: `ingress: [{}]` and `egress: [{}]`;
- namespaces: ingress from and/or egress to `namespaceSelector: {}`, or another tenant's namespace by its
  `kubernetes.io/metadata.name` (which only the API server sets) or by its `tenancy/tenant` label (which anyone
  creating a namespace can copy);
- ip-block: ingress from and/or egress to `0.0.0.0/0`;

and is either a proposal (a manifest yet to be applied) or stored (read from a cluster: it carries a `uid`).

What each plant opens is worked out below from NetworkPolicy semantics alone (`Plant`, `Expected`): a flow needs
both ends to admit it, the program's own policies admit nothing beyond the declared flows, the platform's DNS and
monitoring pods have no policies (they send and receive freely), a tenant's pods stay isolated without their
default-deny (its DNS and monitoring policies select every pod), and a selector that can match a pod in a new
namespace gets a witness there (see `analysis.reachability.witnesses`). Then:

- with admin policies (ClusterNetworkPolicy or AdminNetworkPolicy), the admission policy that comes with them
  refuses a proposed plant with an ingress rule that admits addresses (allow-all, ip-block with ingress): it is
  left out and noted as refused; of the rest, no KEPT invariant breaks; every flow beyond
  the program's own is external ingress or stays within one namespace; what breaks is exactly those gaps; each
  plant that opens such a flow is a `tenant-authored-widening` violation naming the gap, and each plant whose
  cross-namespace attempt the admin tier stops gets a note naming the cluster policy;
- with `adminPolicies: none`: the same plants are found, all as violations, and the KEPT invariants that break
  are exactly those the plants' openings reach (egress-via-proxy for any allow-all or egress to 0.0.0.0/0).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.checks.invariants import Facts, Violation, check
from analysis.checks.invariants.facts import NOTHING
from analysis.checks.invariants.rules import EXTERNAL_INGRESS_UNSTOPPABLE, SAME_NAMESPACE_UNSTOPPABLE
from kube.labels import NAMESPACE_NAME, TENANT
from specs.plan import stack_objects
from stackconfig import StackConfig, parse_config
from tests.analysis.checks.admin_tier import FLOW_GAPS, KEPT, TEXT_RULES

from stackconfig.strategies import stack_config

ADMIN_APIS = ("ClusterNetworkPolicy", "AdminNetworkPolicy")
WIDENING = "tenant-authored-widening"
MAX_TENANTS = 4
# TENANCY_PROPERTY_EXAMPLES runs a longer campaign, as for the other property tests.
EXAMPLES = int(os.environ.get("TENANCY_PROPERTY_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass(frozen=True)
class Plant:
    """One NetworkPolicy a tenant writes in its own namespace, selecting all its pods."""

    namespace: str
    name: str
    kind: str  # "allow-all", "namespaces" or "ip-block"
    ingress: bool = True
    egress: bool = True
    target: str | None = None  # namespaces: another tenant's namespace, or None for every namespace
    by_label: bool = False  # the target chosen by its tenancy/tenant label rather than its name
    stored: bool = False  # read from a cluster (it has a uid), not a manifest yet to be applied

    @property
    def ref(self) -> str:
        return f"NetworkPolicy {self.namespace}/{self.name}"

    def manifest(self) -> dict[str, Any]:
        directions = [d for d, on in (("Ingress", self.ingress), ("Egress", self.egress)) if on]
        spec: dict[str, Any] = {"podSelector": {}, "policyTypes": directions}
        for direction in directions:
            field = "from" if direction == "Ingress" else "to"
            if self.kind == "allow-all":
                rule: dict[str, Any] = {}
            elif self.kind == "ip-block":
                rule = {field: [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}
            elif self.target is None:
                rule = {field: [{"namespaceSelector": {}}]}
            else:
                key = TENANT if self.by_label else NAMESPACE_NAME
                rule = {field: [{"namespaceSelector": {"matchLabels": {key: self.target}}}]}
            spec[direction.lower()] = [rule]
        metadata = {"name": self.name, "namespace": self.namespace, **({"uid": f"uid-{self.name}"} if self.stored else {})}
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}

    @property
    def refused_to_tenants(self) -> bool:
        """The admission policy's validations fail: some ingress rule has no `from`, or an ipBlock in it."""
        return self.ingress and self.kind in ("allow-all", "ip-block")

    # What the policy admits, by kind of peer. Tenant namespaces carry both their name and tenancy/tenant labels.

    def admits_from(self, namespace: str) -> bool:
        """Ingress from every pod of the tenant namespace `namespace` (on every port)."""
        return self.kind == "allow-all" or (self.kind == "namespaces" and self.ingress
                                            and self.target in (None, namespace))

    def admits_to(self, namespace: str) -> bool:
        return self.kind == "allow-all" or (self.kind == "namespaces" and self.egress
                                            and self.target in (None, namespace))

    @property
    def external_ingress(self) -> bool:
        return self.kind == "allow-all" or (self.kind == "ip-block" and self.ingress)

    @property
    def external_egress(self) -> bool:
        return self.kind == "allow-all" or (self.kind == "ip-block" and self.egress)

    @property
    def platform_ingress(self) -> bool:
        """From the DNS and monitoring pods (they have no policies, so their egress is open)."""
        return self.kind == "allow-all" or (self.kind == "namespaces" and self.ingress and self.target is None)

    @property
    def platform_egress(self) -> bool:
        """To the DNS and monitoring pods beyond the DNS port."""
        return self.kind == "allow-all" or (self.kind == "namespaces" and self.egress and self.target is None)

    @property
    def new_namespace_witness(self) -> bool:
        """A selector a namespace created tomorrow can satisfy (no policies there: the witness is open both ways).
        A pinned name is not one: the named namespace exists and its pods already stand for it."""
        return self.kind == "namespaces" and (self.target is None or self.by_label)


class Expected:
    """What the plants open, from the semantics above; `tenants` are every tenant namespace of the stack."""

    def __init__(self, plants: list[Plant], tenants: list[str]):
        self.plants, self.tenants = plants, tenants

    def in_(self, namespace: str) -> list[Plant]:
        return [p for p in self.plants if p.namespace == namespace]

    def opened(self, src: str, dst: str) -> bool:
        """Some plant in `src` opens egress to `dst`'s pods and some plant in `dst` opens ingress from `src`'s."""
        return (any(p.admits_to(dst) for p in self.in_(src))
                and any(p.admits_from(src) for p in self.in_(dst)))

    def same_namespace(self, p: Plant) -> bool:
        """`p` is one end of a flow opened inside its own namespace."""
        ns = p.namespace
        return ((p.admits_from(ns) and any(q.admits_to(ns) for q in self.in_(ns)))
                or (p.admits_to(ns) and any(q.admits_from(ns) for q in self.in_(ns))))

    def cross_tenant(self, p: Plant) -> bool:
        """`p` is one end of a flow opened between its namespace and another tenant's."""
        ns = p.namespace
        return any((p.admits_from(other) and any(q.admits_to(ns) for q in self.in_(other)))
                   or (p.admits_to(other) and any(q.admits_from(ns) for q in self.in_(other)))
                   for other in self.tenants if other != ns)

    def tries(self, p: Plant) -> bool:
        """With NetworkPolicies alone, `p` opens some flow the program's policies do not."""
        return (p.external_ingress or p.external_egress or p.platform_ingress or p.platform_egress
                or p.new_namespace_witness or self.same_namespace(p) or self.cross_tenant(p))

    def widens_with_admin_policies(self, p: Plant) -> bool:
        """What the admin tier cannot stop: ingress from addresses, flows within one namespace."""
        return p.external_ingress or self.same_namespace(p)

    def stopped_by_admin_policies(self, p: Plant) -> bool:
        """A flow across a namespace boundary (or out to an address) that `p` opens, which the admin tier denies."""
        return (p.external_egress or p.platform_ingress or p.platform_egress or p.new_namespace_witness
                or self.cross_tenant(p))

    def refs(self, which: Callable[[Plant], bool]) -> set[str]:
        return {p.ref for p in self.plants if which(p)}

    def open_world(self) -> set[str]:
        # Every plant selects all pods, frontends and non-frontends alike.
        return self.refs(lambda p: p.external_ingress)

    def database_reached(self, admin: bool) -> bool:
        """Some database accepts a flow beyond its backend and metrics port (every tenant has databases)."""
        if any(p.external_ingress for p in self.plants):
            return True
        pairs = [(a, b) for a in self.tenants for b in self.tenants if admin is False or a == b]
        if any(self.opened(a, b) for a, b in pairs):
            return True
        return not admin and any(p.platform_ingress or (p.new_namespace_witness and p.ingress) for p in self.plants)

    def kept_broken_without_admin_policies(self) -> set[str]:
        broken = set()
        if any(p.external_egress for p in self.plants):
            broken.add("egress-via-proxy")  # a tenant pod reaches an address directly
        if any(p.platform_ingress for p in self.plants):
            broken.add("monitoring-metrics-only")  # Prometheus reaches more than the metrics port
        if any(self.opened(a, b) for a in self.tenants for b in self.tenants if a != b):
            broken.add("cross-tenant-flow")
        return broken


@dataclass(frozen=True)
class Scenario:
    raw: dict[str, Any]
    plants: list[Plant]
    deleted: set[str]  # tenant namespaces whose default-deny is deleted

    def config(self, admin_policies: str) -> StackConfig:
        raw = copy.deepcopy(self.raw)
        # Calico implements both cluster policy APIs, so either may be chosen without acknowledging anything.
        raw["cluster"] = {**raw["cluster"], "cni": "calico", "adminPolicies": admin_policies}
        return parse_config(raw).config

    def manifests(self, config: StackConfig) -> list[dict[str, Any]]:
        objects = stack_objects(config)
        kept = [o for o in objects if not (o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "default-deny"
                                           and o["metadata"]["namespace"] in self.deleted)]
        assert len(kept) == len(objects) - len(self.deleted)
        return kept + [p.manifest() for p in self.plants]

    @property
    def expected(self) -> Expected:
        return Expected(self.plants, [t["name"] for t in self.raw["tenants"]])


def few_tenants(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` cut to its first MAX_TENANTS tenants, without consumers of the tenants cut."""
    raw = copy.deepcopy(raw)
    raw["tenants"] = raw["tenants"][:MAX_TENANTS]
    names = {t["name"] for t in raw["tenants"]}
    for tenant in raw["tenants"]:
        for app in tenant["apps"]:
            if "consumers" in app:
                app["consumers"] = [c for c in app["consumers"] if c["tenant"] in names]
    return raw


@st.composite
def plant(draw, namespace: str, index: int, tenants: list[str]) -> Plant:
    kind = draw(st.sampled_from(["allow-all", "namespaces", "ip-block"]))
    name = f"plant-{index}-{kind}"
    stored = draw(st.booleans())
    if kind == "allow-all":
        return Plant(namespace, name, kind, stored=stored)
    ingress, egress = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
    if kind == "ip-block":
        return Plant(namespace, name, kind, ingress, egress, stored=stored)
    others = [t for t in tenants if t != namespace]
    target = draw(st.one_of(st.none(), st.sampled_from(others)))
    return Plant(namespace, name, kind, ingress, egress, target, by_label=target is not None and draw(st.booleans()),
                 stored=stored)


@st.composite
def scenario(draw) -> Scenario:
    raw = few_tenants(draw(stack_config().filter(lambda r: len(r["tenants"]) >= 2)))
    tenants = [t["name"] for t in raw["tenants"]]
    where = draw(st.lists(st.sampled_from(tenants), max_size=5))
    plants = [draw(plant(ns, i, tenants)) for i, ns in enumerate(where)]
    deleted = draw(st.sets(st.sampled_from(tenants)))
    return Scenario(raw, plants, deleted)


def rules_of(violations: Iterable[Violation]) -> set[str]:
    return {v.rule for v in violations}


def subjects(violations: Iterable[Violation], rule: str) -> set[str]:
    return {v.subject for v in violations if v.rule == rule}


def namespace_of(endpoint: str) -> str:
    return endpoint.split("/")[0]


def noted_refs(notes: list[str]) -> set[str]:
    prefix = f"{WIDENING} "
    assert all(n.startswith(prefix) for n in notes), notes
    return {n[len(prefix):].split(":")[0] for n in notes}


def assert_text_rules(found: list[Violation], s: Scenario, want: Expected) -> None:
    assert subjects(found, "tenant-default-deny") == {f"Namespace {ns}" for ns in s.deleted}
    assert subjects(found, "open-world-ingress") == want.open_world()


@SETTINGS
@given(scenario())
def test_with_admin_policies_plants_open_only_the_documented_gaps(s: Scenario) -> None:
    # A proposal the admission policy refuses never reaches the cluster: the account is of the other plants.
    left_out = {p.ref for p in s.plants if p.refused_to_tenants and not p.stored}
    want = Expected([p for p in s.plants if p.ref not in left_out], s.expected.tenants)
    for api in ADMIN_APIS:
        config = s.config(api)
        manifests = s.manifests(config)
        notes: list[str] = []
        found = check(manifests, config, notes=notes)

        # The admin tier keeps every invariant about flows across a namespace boundary.
        assert not rules_of(found) & set(KEPT), [str(v) for v in found if v.rule in KEPT]
        assert rules_of(found) <= {*FLOW_GAPS, *TEXT_RULES, WIDENING}, api
        assert_text_rules(found, s, want)

        # Flow by flow: whatever is open beyond the program's own policies is ingress from an address or stays in
        # one namespace, and lands in a namespace where a plant opens such a gap.
        facts = Facts(manifests, config)
        gaps = {p.namespace for p in s.plants if want.widens_with_admin_policies(p)}
        for (src, dst), ports in facts.flows.items():
            extra = ports - facts.program_flows.get((src, dst), NOTHING)
            if not extra:
                continue
            assert not dst.startswith("ip:"), (src, dst, str(extra))
            assert src.startswith("ip:") or namespace_of(src) == namespace_of(dst), (src, dst, str(extra))
            assert namespace_of(dst) in gaps, (src, dst, str(extra))

        # What still breaks is exactly those gaps.
        for v in found:
            if v.rule in FLOW_GAPS:
                src, dst = v.subject.split(" -> ")
                assert src.startswith("ip:") or namespace_of(src) == namespace_of(dst), v
                assert namespace_of(dst) in gaps, v
        assert ("frontend-external-ingress" in rules_of(found)) == any(p.external_ingress for p in want.plants)
        assert ("database-ingress" in rules_of(found)) == want.database_reached(admin=True)

        # Every plant that opens a gap is a violation saying which gap no admin rule can close.
        widenings = {v.subject: v for v in found if v.rule == WIDENING}
        assert set(widenings) == want.refs(want.widens_with_admin_policies), api
        for p in s.plants:
            if p.ref in widenings:
                why = widenings[p.ref].why
                assert (EXTERNAL_INGRESS_UNSTOPPABLE in why) == p.external_ingress, why
                assert (SAME_NAMESPACE_UNSTOPPABLE in why) == want.same_namespace(p), why
                assert ("admission refuses it to tenants" in why) == p.refused_to_tenants, why

        # Every refused proposal gets a note saying so; every plant whose attempt across a boundary the admin tier
        # stops gets a note naming the rule.
        refusals = [n for n in notes if ": refused at admission to tenants by " in n]
        assert noted_refs(refusals) == left_out, notes
        stops = [n for n in notes if n not in refusals]
        assert noted_refs(stops) == want.refs(want.stopped_by_admin_policies), notes
        assert len(notes) == len(noted_refs(notes))
        kind = "ClusterNetworkPolicy" if api == "ClusterNetworkPolicy" else "AdminNetworkPolicy"
        for note in stops:
            assert "; stopped by " in note and f"{kind}/" in note, note

        # Found one way or the other: every plant that opens anything, and no other.
        assert set(widenings) | noted_refs(stops) == want.refs(want.tries)


@SETTINGS
@given(scenario())
def test_without_admin_policies_the_same_plants_break_the_kept_invariants(s: Scenario) -> None:
    want = s.expected
    config = s.config("none")
    assert config.cluster.admin_policy_api == "none"
    notes: list[str] = []
    found = check(s.manifests(config), config, notes=notes)

    assert rules_of(found) <= {*KEPT, *FLOW_GAPS, *TEXT_RULES, WIDENING}
    assert_text_rules(found, s, want)
    # Exactly the invariants the openings reach: an allow-all or egress to 0.0.0.0/0 anywhere breaks
    # egress-via-proxy; ingress from every namespace breaks monitoring-metrics-only; two tenants opening towards
    # each other break cross-tenant-flow. Nothing touches DNS or the proxy's own egress.
    assert rules_of(found) & set(KEPT) == want.kept_broken_without_admin_policies()
    assert ("frontend-external-ingress" in rules_of(found)) == any(p.external_ingress for p in s.plants)
    assert ("database-ingress" in rules_of(found)) == want.database_reached(admin=False)

    # The same plants as with admin policies, all as violations: nothing stops anything, so no notes, and no
    # violation blames a missing admin rule.
    widenings = {v.subject: v for v in found if v.rule == WIDENING}
    assert set(widenings) == want.refs(want.tries)
    assert notes == []
    assert not any(EXTERNAL_INGRESS_UNSTOPPABLE in v.why or SAME_NAMESPACE_UNSTOPPABLE in v.why for v in found)
