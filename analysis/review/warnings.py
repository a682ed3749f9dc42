"""What a reviewer must not miss in a diff: cross-tenant flows, flows into databases, new external exposure, and
removals that lose data. Pure functions over the engine's flows and the manifests; no rendering here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable

from kube.endpoints import Endpoint
from kube.labels import COMPONENT, TENANT
from analysis.review.diff import Diff, FlowChange
from analysis.reachability.clusterpolicy import ClusterPolicy
from analysis.reachability.direction import Direction
from analysis.reachability.model import Cluster, Policy, Resource, Workload
from policies.tenant_admission import BINDING_KIND, POLICY_KIND

CROSS_TENANT = "cross-tenant"
DATABASE = "database"
EXTERNAL = "external"
INTERNET = "internet-egress"
ISOLATION = "isolation-removed"
DATA_LOSS = "data-loss"
CLUSTER_POLICY = "cluster-policy"
# Headline and listing order: isolation first, because it is what this tool exists to keep.
KINDS = (CROSS_TENANT, ISOLATION, CLUSTER_POLICY, DATABASE, EXTERNAL, INTERNET, DATA_LOSS)

# Kubernetes deletes a namespace's whole content with it, and a claim's volume with the claim unless retained.
DATA_KINDS = ("Namespace", "PersistentVolumeClaim")
_EVERYWHERE = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


@dataclass(frozen=True)
class ReviewWarning:
    kind: str
    subject: str  # "src -> dst" for a flow, the resource ref otherwise
    message: str  # markdown-free; endpoint and resource names are wrapped by the renderer, not here


def is_external(endpoint: str) -> bool:
    """`ip:<address>` (an --external address) or `cidr:<block>` (an ipBlock a policy names): not a workload."""
    return Endpoint.parse(endpoint).is_external


def namespace_of(endpoint: str) -> str | None:
    return Endpoint.parse(endpoint).namespace


def _tenant(cluster: Cluster, namespace: str | None) -> str | None:
    ns = cluster.namespaces.get(namespace) if namespace else None
    return ns.labels.get(TENANT) if ns else None


def flow_warnings(change: FlowChange, cluster: Cluster, workloads: dict[str, Workload]) -> list[ReviewWarning]:
    """Warnings for a flow that opens in `cluster` (the side where it exists)."""
    subject = f"{change.src} -> {change.dst}"
    out = []
    src_ns, dst_ns = namespace_of(change.src), namespace_of(change.dst)
    src_tenant, dst_tenant = _tenant(cluster, src_ns), _tenant(cluster, dst_ns)
    if src_tenant is not None and dst_tenant is not None and src_ns != dst_ns:
        between = f"tenant {src_tenant} -> tenant {dst_tenant}" if src_tenant != dst_tenant else \
            f"namespace {src_ns} -> namespace {dst_ns}, both of tenant {src_tenant}"
        out.append(ReviewWarning(CROSS_TENANT, subject, f"cross-tenant flow ({between})"))
    dst = workloads.get(change.dst)
    if dst is not None and dst.labels.get(COMPONENT) == "database":
        out.append(ReviewWarning(DATABASE, subject, f"flow into database {change.dst}"))
    if is_external(change.src) and not is_external(change.dst):
        source = change.src.split(":", 1)[1]
        out.append(ReviewWarning(EXTERNAL, subject, f"external source {source} reaches {change.dst}"))
    if is_external(change.dst) and not is_external(change.src) and _reaches_internet(change.dst):
        target = Endpoint.parse(change.dst).name
        out.append(ReviewWarning(INTERNET, subject, f"{change.src} reaches the internet ({target}) directly, not "
                                                    "through the egress proxy"))
    return out


# Addresses that are not the internet: private, shared (CGNAT), loopback and link-local ranges. Documentation
# ranges (192.0.2.0/24, ...) stand for internet addresses in examples and probes, so they count as internet.
_NOT_INTERNET = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "0.0.0.0/8", "fc00::/7", "fe80::/10", "::1/128"))


def _reaches_internet(endpoint: str) -> bool:
    """An `ip:` address or `cidr:` block with at least one address outside the private and link-local ranges."""
    try:
        net = ipaddress.ip_network(Endpoint.parse(endpoint).name, strict=False)
    except ValueError:
        return False
    inside = [n for n in _NOT_INTERNET if n.version == net.version and n.overlaps(net)]
    # `inside` holds only networks of net's version, which the per-version stubs of subnet_of cannot see
    return not any(net.subnet_of(n) for n in inside)  # type: ignore[arg-type]


def _isolates(policy: Policy) -> list[Direction]:
    """The directions a policy denies outright (selected pods, no rules: default deny)."""
    out = []
    if policy.affects_ingress and not policy.ingress:
        out.append(Direction.INGRESS)
    if policy.affects_egress and not policy.egress:
        out.append(Direction.EGRESS)
    return out


def isolation_warnings(old: Cluster, new: Cluster) -> list[ReviewWarning]:
    """A NetworkPolicy that denied a direction outright (default deny) is removed, or no longer denies it: every
    pod it selected may now be open in that direction, whether or not any flow shows it today."""
    after = {p.ref: p for p in new.policies}
    out = []
    for policy in sorted(old.policies, key=lambda p: p.ref):
        lost = _isolates(policy)
        now = after.get(policy.ref)
        if now is not None:
            lost = [d for d in lost if d not in _isolates(now)]
        if not lost:
            continue
        what = "is removed" if now is None else f"no longer denies {' and '.join(lost)}"
        out.append(ReviewWarning(ISOLATION, f"NetworkPolicy {policy.ref}",
                                 f"NetworkPolicy {policy.ref} (deny {' and '.join(lost)} for pods with "
                                 f"{policy.pod_selector}) {what}: the pods it isolated may accept or open anything "
                                 "not otherwise denied"))
    return out


def _networks(texts: Iterable[object]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network | str]:
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network | str] = []
    for t in texts:
        try:
            nets.append(ipaddress.ip_network(str(t), strict=False))
        except ValueError:
            nets.append(str(t))  # unparsable: never counts as covered, so it is reported
    return nets


def _exposure(obj: dict) -> list | None:
    """The source ranges a Service admits from outside, or None when it is not a LoadBalancer."""
    spec = obj.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    # No loadBalancerSourceRanges means the cloud load balancer accepts every address.
    return _networks(spec.get("loadBalancerSourceRanges") or ()) or list(_EVERYWHERE)


def _covered(net, by: list) -> bool:
    if isinstance(net, str):
        return False
    merged = ipaddress.collapse_addresses([n for n in by if not isinstance(n, str) and n.version == net.version])
    return any(net.subnet_of(m) for m in merged)


def _ranges_text(nets: list) -> str:
    return ", ".join(str(n) for n in nets)


def _tier_text(policy: ClusterPolicy) -> str:
    when = ("before every namespace's NetworkPolicies, which cannot override it" if policy.tier == "Admin"
            else "for pods no NetworkPolicy selects, after the Admin tier")
    prio = f", priority {policy.priority}" if policy.priority is not None else ""
    return f"{policy.tier} tier{prio}: decides cluster-wide, {when}"


# Admission decides which NetworkPolicies tenants may write (policies/tenant_admission.py): no flow changes when it
# goes, only what tenants can do next.
ADMISSION_KINDS = (POLICY_KIND, BINDING_KIND)


def cluster_policy_warnings(old: Cluster, new: Cluster, diff: Diff) -> list[ReviewWarning]:
    """A change to a cluster policy (ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) is
    marked as such: it is cluster-scoped and outranks (Admin tier) or backs (Baseline tier) every namespace's
    NetworkPolicies, so its reach is the whole cluster whatever the flows listed show. So is a change to an
    admission policy, which no flow shows at all."""
    before = {p.ref: p for p in old.cluster_policies}
    after = {p.ref: p for p in new.cluster_policies}
    out = []
    for what, changes, side in (("added", diff.added, after), ("removed", diff.removed, before),
                                ("changed", diff.changed, after)):
        for r in changes:
            if r.kind in ADMISSION_KINDS:
                out.append(ReviewWarning(CLUSTER_POLICY, r.ref, f"admission policy {r.kind}/{r.name} {what} "
                                         "(cluster-wide: decides which objects the API server accepts, such as "
                                         "the NetworkPolicies tenants may write)"))
                continue
            policy = side.get(f"{r.kind}/{r.name}")
            if policy is None:
                continue
            was = before.get(policy.ref)
            moved = ""
            if what == "changed" and was is not None and (was.tier, was.priority) != (policy.tier, policy.priority):
                moved = f"; was {was.tier} tier" + (f", priority {was.priority}" if was.priority is not None else "")
            out.append(ReviewWarning(CLUSTER_POLICY, r.ref,
                                     f"cluster policy {policy.ref} {what} ({_tier_text(policy)}{moved})"))
    return out


def resource_warnings(old: Cluster, new: Cluster, diff: Diff) -> list[ReviewWarning]:
    out = [*isolation_warnings(old, new), *cluster_policy_warnings(old, new, diff)]
    for r in diff.removed:
        if r.kind == "Namespace":
            out.append(ReviewWarning(DATA_LOSS, r.ref, f"Namespace {r.name} is removed: Kubernetes deletes "
                                                      "everything in it, claims and their volumes included"))
        elif r.kind == "PersistentVolumeClaim":
            out.append(ReviewWarning(DATA_LOSS, r.ref, f"PersistentVolumeClaim {r.namespace}/{r.name} is removed: "
                                                      "its volume goes with it unless the reclaim policy is Retain"))
    before: dict[tuple[str, str, str], Resource] = {res.key: res for res in old.resources if res.kind == "Service"}
    for res in sorted((x for x in new.resources if x.kind == "Service"), key=lambda x: x.key):
        now = _exposure(res.obj)
        if now is None:
            continue
        ref = f"Service {res.namespace}/{res.name}"
        was = _exposure(before[res.key].obj) if res.key in before else None
        if was is None:
            out.append(ReviewWarning(EXTERNAL, ref, f"new LoadBalancer Service {res.namespace}/{res.name} open to "
                                                    f"{_ranges_text(now)}"))
            continue
        wider = [n for n in now if not _covered(n, was)]
        if wider:
            out.append(ReviewWarning(EXTERNAL, ref, f"loadBalancerSourceRanges of Service {res.namespace}/{res.name} "
                                                    f"widened by {_ranges_text(wider)} (was {_ranges_text(was)})"))
    return out
