"""The cluster-scoped policy envelope (SIG-Network network-policy-api) every admin- and baseline-tier builder
shares, its API limits, and the translation to the older AdminNetworkPolicy API.

Builders write `ClusterNetworkPolicy` (`policy.networking.k8s.io/v1alpha2`, served by network-policy-api v0.2.0
and later); `as_api` turns the result into `AdminNetworkPolicy`/`BaselineAdminNetworkPolicy` (`v1alpha1`, v0.1.x)
for CNIs that implement only those. The field shapes follow the upstream Go types exactly (apis/v1alpha2 and
apis/v1alpha1); `kube/crds/` holds the CRDs the output is validated against.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from kube.labels import POLICY_PATTERN, managed
from stackconfig.cni import ADMIN_NETWORK_POLICY, ADMIN_POLICY_LIMITS, CLUSTER_NETWORK_POLICY
from stackconfig.cni import ApiLimits as Limits

GROUP = "policy.networking.k8s.io"
ADMIN, BASELINE = "Admin", "Baseline"
ACCEPT, DENY, PASS = "Accept", "Deny", "Pass"
PRIORITY_RANGE = (0, 1000)  # both APIs; lower numbers are evaluated first within a tier
# 0-99 stay free for the platform's own admin rules that must win over these (an incident block, say).
CONSUMER_PRIORITY = 100  # Admin: Pass exactly the declared cross-tenant flows to the namespace policies
MONITORING_PRIORITY = 105  # Admin: Pass Prometheus to each app's metrics port, before the boundary denies the rest
BOUNDARY_PRIORITY = 110  # Admin: per-tenant boundary (other tenants, unknown namespaces, outside the cluster)
BASELINE_PRIORITY = 100  # Baseline: default deny for tenant namespaces, DNS allowed
BANP_NAME = "default"  # BaselineAdminNetworkPolicy is a singleton with this name (a CEL rule of its CRD)
EVERYWHERE = ("0.0.0.0/0", "::/0")
LIMITS = ADMIN_POLICY_LIMITS


T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class TooLarge(ValueError):
    """A policy would exceed its API's limits; the message names the object and the limit."""


def cluster_network_policy(name: str, pattern: str, tier: str, priority: int, subject: dict,
                           ingress: list[dict] | None = None, egress: list[dict] | None = None,
                           labels: dict[str, str] | None = None) -> dict:
    spec: dict = {"tier": tier, "priority": priority, "subject": subject}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": f"{GROUP}/v1alpha2", "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name, "labels": {**managed(), POLICY_PATTERN: pattern, **(labels or {})}},
        "spec": spec,
    }


# --- peers, subjects, rules (v1alpha2 shapes) ------------------------------------------------------------------

def namespaces(selector: dict) -> dict:
    """Every pod of the namespaces `selector` picks (a peer or a subject)."""
    return {"namespaces": selector}


def pods(namespace_selector: dict, pod_selector: dict) -> dict:
    """Pods `pod_selector` picks in the namespaces `namespace_selector` picks: both must match (a peer or a
    subject). Both selectors are written out: v1alpha1 requires them, and `{}` means all."""
    return {"pods": {"namespaceSelector": namespace_selector, "podSelector": pod_selector}}


def networks(cidrs: Sequence[str]) -> dict:
    """Addresses in `cidrs` (egress only). They match pod addresses too: pass pod traffic before denying these."""
    return {"networks": list(cidrs)}


def tcp(port: int) -> dict:
    return {"tcp": {"destinationPort": {"number": port}}}


def udp(port: int) -> dict:
    return {"udp": {"destinationPort": {"number": port}}}


def rule(name: str, action: str, peers: list[dict], direction: str, protocols: list[dict] | None = None) -> dict:
    """One ingress (`from`) or egress (`to`) rule; without protocols it matches every port and protocol."""
    out: dict = {"name": name, "action": action, "from" if direction == "ingress" else "to": peers}
    if protocols:
        out["protocols"] = protocols
    return out


def check_size(policy: dict, limits: Limits) -> None:
    """Raise TooLarge when `policy` (v1alpha2) exceeds `limits`."""
    name, spec = policy["metadata"]["name"], policy["spec"]
    lo, hi = PRIORITY_RANGE
    if not lo <= spec["priority"] <= hi:
        raise TooLarge(f"{name}: priority {spec['priority']} outside {lo}-{hi}")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction, [])
        if len(rules) > limits.rules:
            raise TooLarge(f"{name}: {len(rules)} {direction} rules, the API allows {limits.rules} per object")
        for r in rules:
            if len(r[peers_key]) > limits.peers:
                raise TooLarge(f"{name}: {direction} rule {r['name']} has {len(r[peers_key])} peers, "
                               f"the API allows {limits.peers}")
            if len(r.get("protocols", ())) > limits.protocols:
                raise TooLarge(f"{name}: {direction} rule {r['name']} has {len(r['protocols'])} protocols, "
                               f"the API allows {limits.protocols}")


# --- v1alpha2 -> v1alpha1 --------------------------------------------------------------------------------------

def _v1alpha1_ports(protocols: list[dict]) -> list[dict]:
    ports = []
    for protocol in protocols:
        (name, match), = protocol.items()
        port = match["destinationPort"]
        if "number" in port:
            ports.append({"portNumber": {"protocol": name.upper(), "port": port["number"]}})
        else:
            ports.append({"portRange": {"protocol": name.upper(), "start": port["range"]["start"],
                                        "end": port["range"]["end"]}})
    return ports


def _v1alpha1_rule(r: dict, tier: str) -> dict:
    action = {ACCEPT: "Allow"}.get(r["action"], r["action"])
    if tier == BASELINE and action == PASS:
        raise ValueError(f"rule {r['name']}: BaselineAdminNetworkPolicy has no Pass action")
    out = {k: v for k, v in r.items() if k != "protocols"}
    out["action"] = action
    if "protocols" in r:
        out["ports"] = _v1alpha1_ports(r["protocols"])
    return out


def as_api(policy: dict, api: str) -> dict:
    """`policy` (v1alpha2) in the API the cluster implements: itself, or its v1alpha1 AdminNetworkPolicy /
    BaselineAdminNetworkPolicy equivalent (Accept is called Allow there, ports replace protocols, a baseline
    policy has no priority and must be named `default`)."""
    if api == CLUSTER_NETWORK_POLICY:
        return policy
    if api != ADMIN_NETWORK_POLICY:
        raise ValueError(f"no cluster policy API {api!r}")
    spec = policy["spec"]
    tier = spec["tier"]
    out_spec: dict = {"subject": spec["subject"]}
    if tier == ADMIN:
        out_spec = {"priority": spec["priority"], **out_spec}
    for direction in ("ingress", "egress"):
        if direction in spec:
            out_spec[direction] = [_v1alpha1_rule(r, tier) for r in spec[direction]]
    metadata = dict(policy["metadata"])
    if tier == BASELINE:
        metadata["name"] = BANP_NAME
    return {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "AdminNetworkPolicy" if tier == ADMIN else "BaselineAdminNetworkPolicy",
        "metadata": metadata, "spec": out_spec,
    }
