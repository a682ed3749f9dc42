"""The invariants, one function per stable rule id, each registered with `@rule(id, what it proves)`. Each reads
`Facts` and yields `Violation`s.

Flow rules judge what the engine finds allowed (`Facts.flows`, every allowed pair with its port set), never the
policies' text, so a policy that is badly written but harmless passes and a harmless-looking one that opens a
hole does not. Two rules are about policies themselves: default deny must be explicit (a namespace can look
isolated today only because its DNS and monitoring policies happen to select every pod), and an open-world
ingress rule is refused on anything but a frontend even where it opens nothing yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from kube.endpoints import Endpoint
from kube.labels import COMPONENT
from analysis.reachability.model import Policy
from analysis.reachability.selectors import Selector
from analysis.reachability.witnesses import WITNESS_LABEL

from .facts import NOTHING, Facts, tcp
from ..violation import Violation

Rule = Callable[[Facts], Iterator[Violation]]
# Per widened pair, how many distinct extra port ranges are traced back to their policies (bounds the work when
# a policy opens a scatter of single ports).
MAX_RANGES_ASKED = 16


@dataclass(frozen=True)
class Invariant:
    id: str
    proves: str
    violations: Rule


# Every invariant by id, in the order the rules are defined below: the order `RULES` lists them in.
REGISTRY: dict[str, Invariant] = {}


def rule(rule_id: str, proves: str) -> Callable[[Rule], Rule]:
    """Registers the decorated function as the invariant `rule_id`, which proves `proves`: a rule's id, its
    description and its code are written in one place, so none can exist without the others."""
    def register(violations: Rule) -> Rule:
        if rule_id in REGISTRY:
            raise ValueError(f"rule id {rule_id!r} is registered twice")
        REGISTRY[rule_id] = Invariant(rule_id, proves, violations)
        return violations
    return register


def _flow(src: str, dst: str) -> str:
    return f"{src} -> {dst}"


@rule("tenant-default-deny", "every tenant namespace has a NetworkPolicy selecting all its pods with no ingress rules "
                             "and one with no egress rules (explicit default deny, both directions)")
def tenant_default_deny(f: Facts) -> Iterator[Violation]:
    # Grouped once: asking every policy about every namespace was 9 million tests at 1,000 tenants.
    by_namespace: dict[str, list[Policy]] = {}
    for p in f.analysed.policies:
        if p.pod_selector.is_empty:
            by_namespace.setdefault(p.namespace, []).append(p)
    for ns in sorted(f.tenants):
        missing = []
        for direction in ("ingress", "egress"):
            if not any(_denies_all(p, direction) for p in by_namespace.get(ns, ())):
                missing.append(direction)
        if missing:
            types = ", ".join(d.capitalize() for d in missing)
            yield Violation(
                "tenant-default-deny", f"Namespace {ns}",
                f"not default-deny for {' and '.join(missing)}: no NetworkPolicy in it has podSelector {{}}, "
                f"policyTypes [{types}] and no {'/'.join(missing)} rules")


def _denies_all(p: Policy, direction: str) -> bool:
    if direction == "ingress":
        return p.affects_ingress and not p.ingress
    return p.affects_egress and not p.egress


@rule("cross-tenant-flow", "no flow between two tenants' namespaces, in either direction, unless the destination "
                           "app declares the source as a consumer, and then only on its backend port")
def cross_tenant_flow(f: Facts) -> Iterator[Violation]:
    for (s, d), ports in sorted(f.flows.items()):
        src, dst = f.workload(s), f.workload(d)
        if src is None or dst is None or src.namespace == dst.namespace:
            continue
        if src.namespace not in f.tenants or dst.namespace not in f.tenants:
            continue
        declared = f.declared_consumer_ports(src, dst)
        excess = ports - declared
        if not excess:
            continue
        if declared:
            why = f"allowed on {excess} beyond the declared consumer port {declared}"
        else:
            why = (f"allowed on {excess}, but {dst.namespace} declares no consumer matching {s} "
                   f"(tenants are isolated from each other unless a consumers entry says otherwise)")
        yield Violation("cross-tenant-flow", _flow(s, d), why)


@rule("database-ingress", "a database accepts only its own app's backend on the database port, and monitoring on "
                          "the metrics port")
def database_ingress(f: Facts) -> Iterator[Violation]:
    for (s, d), ports in sorted(f.flows.items()):
        dst = f.workload(d)
        t = f.tier(dst) if dst is not None else None
        if dst is None or t is None or t.tier != "database":
            continue
        db_port, metrics = f.serve_port(dst), f.metrics_port(dst)
        allowed = NOTHING
        src = f.workload(s)
        if src is not None:
            st = f.tier(src)
            if st is not None and (st.tenant, st.app, st.tier) == (t.tenant, t.app, "backend"):
                allowed = allowed | tcp(db_port)
            if f.is_monitoring(src):
                allowed = allowed | tcp(metrics)
        excess = ports - allowed
        if excess:
            yield Violation(
                "database-ingress", _flow(s, d),
                f"allowed on {excess}; a database accepts only {t.tenant}/{t.app}-backend pods on {tcp(db_port)} "
                f"and monitoring on {tcp(metrics) or 'no metrics port'}")


@rule("monitoring-metrics-only", "monitoring reaches the program's pods on their metrics port and no other")
def monitoring_metrics_only(f: Facts) -> Iterator[Violation]:
    for (s, d), ports in sorted(f.flows.items()):
        src, dst = f.workload(s), f.workload(d)
        if src is None or dst is None or not f.is_monitoring(src) or dst.namespace not in f.program_namespaces:
            continue
        if f.is_witness(d):
            continue  # a witness's openness is its namespace admins' doing, not monitoring's
        metrics = f.metrics_port(dst)
        excess = ports - tcp(metrics)
        if excess:
            where = f"its metrics port is TCP {metrics}" if metrics else f"{d} has no metrics port"
            yield Violation("monitoring-metrics-only", _flow(s, d),
                            f"allowed on {excess}; monitoring may scrape metrics only ({where})")


@rule("egress-via-proxy", "no tenant pod reaches an external address; only backends declared for internet egress "
                          "reach the egress proxy, and only on its port (every source counts: any namespace, "
                          "any address)")
def egress_via_proxy(f: Facts) -> Iterator[Violation]:
    for (s, d), ports in sorted(f.flows.items()):
        src = f.workload(s)
        if src is not None and src.namespace in f.tenants and Endpoint.parse(d).is_address and not f.is_witness(s):
            yield Violation("egress-via-proxy", _flow(s, d),
                            f"allowed on {ports}; tenant pods reach external addresses only through the egress proxy")
            continue
        dst = f.workload(d)
        if dst is None or not f.is_proxy(dst) or (src is not None and f.is_proxy(src)):
            continue
        # Every source counts, not only tenant pods: a namespace copying a tenant's labels, a platform pod, an
        # external address or a witness of what a selector could match reaching the proxy is a hole.
        allowed = tcp(f.proxy_port) if src is not None and f.internet_egress(src) else NOTHING
        excess = ports - allowed
        if not excess:
            continue
        if allowed:
            why = f"allowed on {excess}; the proxy is reached on its port {allowed} only"
        elif src is None:
            why = f"allowed on {excess}; the proxy accepts only declared backends, not addresses outside the cluster"
        elif src.namespace not in f.tenants:
            why = (f"allowed on {excess}, but {src.namespace} is not a tenant namespace; the proxy accepts only "
                   "declared backends")
        else:
            why = f"allowed on {excess}, but {s} is not {f.intent.internet_egress_means}"
        yield Violation("egress-via-proxy", _flow(s, d), why)


@rule("proxy-private-ranges", "the egress proxy reaches no cluster workload but DNS, and no cluster, private or "
                              "link-local address")
def proxy_private_ranges(f: Facts) -> Iterator[Violation]:
    for (s, d), ports in sorted(f.flows.items()):
        src = f.workload(s)
        if src is None or not f.is_proxy(src):
            continue
        destination = Endpoint.parse(d)
        if destination.is_address:
            address = destination.address()
            inside = [r for r in f.forbidden_to_proxy if r.version == address.version and address in r]
            if inside:
                yield Violation("proxy-private-ranges", _flow(s, d),
                                f"allowed on {ports}; {address} is in {inside[0]}, which the proxy must never reach")
            continue
        dst = f.workload(d)
        if dst is None:
            continue
        excess = ports - (f.dns_ports if f.is_dns(dst) else NOTHING)
        if excess:
            yield Violation("proxy-private-ranges", _flow(s, d),
                            f"allowed on {excess}; the proxy reaches no cluster workload but DNS")


@rule("frontend-external-ingress", "external addresses reach only frontends, only from their declared "
                                   "load-balancer CIDRs, only on the frontend port")
def frontend_external_ingress(f: Facts) -> Iterator[Violation]:
    for (s, d), ports in sorted(f.flows.items()):
        dst = f.workload(d)
        source = Endpoint.parse(s)
        if not source.is_address or dst is None or dst.namespace not in f.tenants or f.is_witness(d):
            continue
        address = source.address()
        t = f.tier(dst)
        if t is None or t.tier != "frontend":
            why = f"allowed on {ports}; only frontends accept external addresses"
        else:
            ranges = f.load_balancer_ranges(t)
            if not any(r.version == address.version and address in r for r in ranges):
                declared = ", ".join(map(str, ranges)) or "none declared"
                why = f"allowed on {ports}; {address} is outside the load-balancer ranges ({declared})"
            else:
                port = tcp(f.serve_port(dst))
                excess = ports - port
                if not excess:
                    continue
                why = f"allowed on {excess}; load-balancer ranges reach the frontend on {port or 'no port'} only"
        yield Violation("frontend-external-ingress", _flow(s, d), why)


@rule("dns-reachable", "every tenant pod reaches every cluster DNS pod on the DNS port, UDP and TCP")
def dns_reachable(f: Facts) -> Iterator[Violation]:
    dns = sorted((w for w in f.analysed.workloads if f.is_dns(w)), key=lambda w: w.endpoint)
    tenant_pods = sorted((w for w in f.analysed.workloads if w.namespace in f.tenants), key=lambda w: w.endpoint)
    if not dns and tenant_pods:
        cfg = f.cluster_config.dns
        yield Violation("dns-reachable", f"Namespace {cfg.namespace}",
                        f"no DNS workload (pods labelled {_labels_text(cfg.pod_labels)}) to reach")
        return
    for w in tenant_pods:
        for d in dns:
            missing = f.dns_ports - f.flows.get((w.endpoint, d.endpoint), NOTHING)
            if missing:
                yield Violation("dns-reachable", _flow(w.endpoint, d.endpoint), f"DNS not reachable on {missing}")


def _labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _only_frontends(selector: Selector) -> bool:
    return any(r.key == COMPONENT and r.operator == "In" and r.values == frozenset({"frontend"})
               for r in selector.requirements)


def open_world(policy: Policy) -> Iterator[Violation]:
    """The per-object half of open-world-ingress: one policy, wherever it lives (CrossGuard checks each policy
    the stack creates with this)."""
    if not policy.affects_ingress or _only_frontends(policy.pod_selector):
        return
    for i, rule in enumerate(policy.ingress):
        if rule.peers is None:
            opening = "every source (no 'from')"
        else:
            worlds = [str(p.ip_block.cidr) for p in rule.peers if p.ip_block is not None and p.ip_block.cidr.prefixlen == 0]
            if not worlds:
                continue
            opening = " and ".join(worlds)
        yield Violation("open-world-ingress", f"NetworkPolicy {policy.ref}",
                        f"spec.ingress[{i}] admits {opening} into pods that are not frontends "
                        f"(podSelector {policy.pod_selector} does not require {COMPONENT}=frontend)")


@rule("open-world-ingress", "no NetworkPolicy in the program's namespaces admits 0.0.0.0/0, ::/0 or every source "
                            "(no 'from') into pods that are not frontends, even if it selects no pod yet")
def open_world_ingress(f: Facts) -> Iterator[Violation]:
    for policy in f.analysed.policies:
        if policy.namespace in f.program_namespaces and not policy.pod_selector.requirements_on(WITNESS_LABEL):
            yield from open_world(policy)


@rule("tenant-authored-widening", "a NetworkPolicy the program did not render opens no flow to or from the "
                                  "program's pods beyond what the program's own policies allow")
def tenant_authored_widening(f: Facts) -> Iterator[Violation]:
    ours = f.program_policy_refs
    baseline = f.program_flows
    opened: dict[str, list[tuple[str, str, object]]] = {}
    for (s, d), ports in sorted(f.flows.items()):
        touches = [f.workload(e) for e in (s, d)]
        if not any(w is not None and w.namespace in f.program_namespaces for w in touches):
            continue
        extra = ports - baseline.get((s, d), NOTHING)
        if not extra:
            continue
        culprits: set[str] = set()
        # Different policies may open different ports of one pair: ask at the start of every extra range.
        starts = [(lo, proto) for proto in ("TCP", "UDP", "SCTP") for lo, _ in extra.ranges(proto)]
        for port, proto in starts[:MAX_RANGES_ASKED]:
            verdict = f.engine.verdict(s, d, port, proto)
            for side in (verdict.egress, verdict.ingress):
                refs = {r.policy for r in side.admitting}
                if not refs & ours:  # else the program's policies admit this side; the widening is on the other
                    culprits |= refs
        for ref in culprits:
            opened.setdefault(ref, []).append((s, d, extra))
    by_ref = {p.ref: p for p in f.analysed.policies}
    for ref, flows in sorted(opened.items()):
        shown = "; ".join(f"{_flow(s, d)} on {ports}" for s, d, ports in flows[:3])
        more = f" and {len(flows) - 3} more" if len(flows) > 3 else ""
        posing = ""
        if ref in by_ref and f.claims_program(by_ref[ref]):
            posing = " (it carries the program's managed-by label but is not what the program renders for this stack)"
        count = f"{len(flows)} flow{'s' if len(flows) > 1 else ''}"
        refused = f.refused_but_present.get(ref)
        admission = (f"; admission refuses it to tenants ({refused}): it was created before that policy or by "
                     "someone who may write cluster policies" if refused else "")
        yield Violation("tenant-authored-widening", f"NetworkPolicy {ref}",
                        f"opens {count} the program's policies do not: {shown}{more}{posing}"
                        + _unstoppable(f, [(s, d) for s, d, _ in flows]) + admission)


# Why no cluster policy stops a widening, for the two kinds of flow the admin tier cannot (or by design does not)
# decide; said only where cluster policies are in place, since without them nothing stops any widening.
EXTERNAL_INGRESS_UNSTOPPABLE = (
    "no admin rule can stop ingress from external addresses (ClusterNetworkPolicy v1alpha2 and AdminNetworkPolicy "
    "v1alpha1 have no address peer for ingress); the program's admission policy refuses such NetworkPolicies to "
    "tenants from Kubernetes 1.30")
SAME_NAMESPACE_UNSTOPPABLE = (
    "no admin rule stops flows within one namespace: the admin tier leaves them to the tenant's own "
    "NetworkPolicies, by design")


def _unstoppable(f: Facts, flows: list[tuple[str, str]]) -> str:
    if not f.analysed.cluster_policies:
        return ""
    reasons = []
    if any(Endpoint.parse(s).is_address for s, _ in flows):
        reasons.append(EXTERNAL_INGRESS_UNSTOPPABLE)
    same = [(f.workload(s), f.workload(d)) for s, d in flows]
    if any(a is not None and b is not None and a.namespace == b.namespace for a, b in same):
        reasons.append(SAME_NAMESPACE_UNSTOPPABLE)
    return "".join(f"; {r}" for r in reasons)


def tenant_authored_attempts(f: Facts) -> Iterator[str]:
    """What tenants tried and the cluster stops, one line per NetworkPolicy; not violations, since nothing opened:

    - a proposed NetworkPolicy admission refuses to tenants (left out of the verdicts), with the refusal;
    - a NetworkPolicy that with the NetworkPolicies alone would open flows beyond the program's own, which the
      cluster policies do not let through, naming the deciding cluster-policy rule."""
    for ref, refusal in f.refused_proposals:
        yield (f"tenant-authored-widening NetworkPolicy {ref}: refused at admission to tenants by {refusal}; "
               "left out of the verdicts, since a tenant cannot apply it")
    if not f.analysed.cluster_policies:
        return
    ours = f.program_policy_refs
    tried, baseline = f.namespace_policy_flows, f.program_namespace_policy_flows
    stopped: dict[str, list[tuple[str, str, object, str]]] = {}
    for (s, d), ports in sorted(tried.items()):
        touches = [f.workload(e) for e in (s, d)]
        if not any(w is not None and w.namespace in f.program_namespaces for w in touches):
            continue
        blocked = ports - baseline.get((s, d), NOTHING) - f.flows.get((s, d), NOTHING)
        if not blocked:
            continue
        proto = next(p for p in ("TCP", "UDP", "SCTP") if blocked.ranges(p))
        port = blocked.ranges(proto)[0][0]
        culprits: set[str] = set()
        tried_verdict = f.namespace_policy_engine.verdict(s, d, port, proto)
        for side in (tried_verdict.egress, tried_verdict.ingress):
            refs = {r.policy for r in side.admitting}
            if not refs & ours:
                culprits |= refs
        actual = f.engine.verdict(s, d, port, proto)
        deciding = [side.admin_rule if side.decided_by == "admin" else side.baseline_rule
                    for side in (actual.egress, actual.ingress)
                    if not side.allowed and side.decided_by in ("admin", "baseline")]
        reason = str(deciding[0]) if deciding else "a cluster policy"
        for ref in culprits:
            stopped.setdefault(ref, []).append((s, d, blocked, reason))
    for ref, flows in sorted(stopped.items()):
        shown = "; ".join(f"{_flow(s, d)} on {ports}" for s, d, ports, _ in flows[:3])
        more = f" and {len(flows) - 3} more" if len(flows) > 3 else ""
        reasons = sorted({r for *_, r in flows})
        count = f"{len(flows)} flow{'s' if len(flows) > 1 else ''}"
        yield (f"tenant-authored-widening NetworkPolicy {ref}: tried to open {count} the program's policies do not "
               f"({shown}{more}); stopped by {'; '.join(reasons[:2])}"
               + (f" and {len(reasons) - 2} more cluster-policy rules" if len(reasons) > 2 else ""))


@rule("tenant-host-network", "no workload in a tenant namespace runs with hostNetwork (NetworkPolicy does not apply "
                             "to it, and its traffic carries its node's address)")
def tenant_host_network(f: Facts) -> Iterator[Violation]:
    for w in sorted(f.analysed.workloads, key=lambda w: w.endpoint):
        if w.host_network and w.namespace in f.tenants:
            yield Violation("tenant-host-network", f"{w.kind} {w.endpoint}",
                            "runs with hostNetwork: no NetworkPolicy isolates it (default deny included) and its "
                            "traffic carries its node's address, which tenant policies cannot tell apart")


# Rule id -> what it proves; the README's table and the CrossGuard pack's descriptions come from here, in this order.
RULES: dict[str, str] = {i.id: i.proves for i in REGISTRY.values()}
