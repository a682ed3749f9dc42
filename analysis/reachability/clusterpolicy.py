"""Cluster-scoped policies of `policy.networking.k8s.io`, read into one model the engine evaluates in tiers.

Kinds (network-policy-api v0.2.0 / v0.3.0 for ClusterNetworkPolicy, v0.1.x for the v1alpha1 pair):
- `ClusterNetworkPolicy` (v1alpha2; v1beta1 has the identical schema): `spec.tier` Admin | Baseline,
  `spec.priority` 0-1000, actions Accept | Deny | Pass, ports as `protocols` (tcp/udp/sctp with an optional
  `destinationPort` number or range, or `destinationNamedPort`);
- `AdminNetworkPolicy` (v1alpha1): the Admin tier, `spec.priority` 0-1000, actions Allow | Deny | Pass, `ports`
  (`portNumber`, `portRange`, `namedPort`);
- `BaselineAdminNetworkPolicy` (v1alpha1): the Baseline tier, a singleton named `default`, actions Allow | Deny.
`Allow` is read as `Accept`: the v1alpha2 rename kept the meaning (NPEP-285).

What the API says and this model keeps (apis/v1alpha2/clusternetworkpolicy_types.go):
- the subject is `namespaces` (a namespace selector) or `pods` (namespaceSelector AND podSelector);
- rules are ordered: within a policy the first matching rule decides; across policies the lower priority value
  first; ingress peers are `namespaces` | `pods`; egress peers add `networks`, `nodes` and `domainNames`;
- `networks` also match cluster-internal traffic ("if you Accept or Deny traffic to 0.0.0.0/0, that will allow or
  deny all IPv4 pod-to-pod traffic as well"). Pod IPs are not in manifests, so a pod matches a networks peer when
  the peer's CIDRs cover the whole pod network (by default: all of IPv4, i.e. only `0.0.0.0/0` matches pods);
- `nodes` and `domainNames` are not modelled: node IPs and DNS answers are not in manifests. Such peers match no
  pod (pods are never nodes; host-networked pods are outside the subject and peers by the API's own text) and no
  external address, and the engine says so in a warning;
- a peer without any known field is "failed closed" as the API asks: an Accept rule matches nothing, a Deny or
  Pass rule denies everything in its direction.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from .direction import INGRESS, Direction
from .ipblocks import Address, Network
from .ports import MAX_PORT, MIN_PORT, PROTOCOLS, PortSpec, is_port_name
from .selectors import EVERYTHING, Selector, parse_selector

GROUP = "policy.networking.k8s.io"
CNP, ANP, BANP = "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"
API_VERSIONS: dict[str, tuple[str, ...]] = {
    CNP: (f"{GROUP}/v1alpha2", f"{GROUP}/v1beta1"),
    ANP: (f"{GROUP}/v1alpha1",),
    BANP: (f"{GROUP}/v1alpha1",),
}
ADMIN, BASELINE = "Admin", "Baseline"
ACCEPT, DENY, PASS = "Accept", "Deny", "Pass"
MIN_PRIORITY, MAX_PRIORITY = 0, 1000

_ACTIONS: dict[str, dict[str, str]] = {
    CNP: {"Accept": ACCEPT, "Deny": DENY, "Pass": PASS},
    ANP: {"Allow": ACCEPT, "Deny": DENY, "Pass": PASS},
    BANP: {"Allow": ACCEPT, "Deny": DENY},
}
_INGRESS_PEERS = ("namespaces", "pods")
_EGRESS_PEERS: dict[str, tuple[str, ...]] = {
    CNP: ("namespaces", "pods", "networks", "nodes", "domainNames"),
    ANP: ("namespaces", "pods", "networks", "nodes", "domainNames"),
    BANP: ("namespaces", "pods", "networks", "nodes"),
}

# By default nothing is known about pod IPs but that they are IPv4 addresses: only a networks peer covering all of
# IPv4 is certain to match a pod.
DEFAULT_POD_NETWORKS: tuple[Network, ...] = (ipaddress.ip_network("0.0.0.0/0"),)


def is_cluster_policy(kind: object, api_version: object) -> bool:
    return isinstance(kind, str) and api_version in API_VERSIONS.get(kind, ())


@dataclass(frozen=True)
class ClusterPeer:
    """One `from`/`to` item: exactly one of its kinds (or "invalid" when none was recognised)."""

    kind: str  # "namespaces" | "pods" | "networks" | "nodes" | "domainNames" | "invalid"
    namespace_selector: Selector | None = None  # namespaces, pods
    pod_selector: Selector | None = None  # pods
    networks: tuple[Network, ...] = ()
    node_selector: Selector | None = None
    domains: tuple[str, ...] = ()

    @property
    def modelled(self) -> bool:
        return self.kind in ("namespaces", "pods", "networks")

    def admits_address(self, addr: Address) -> bool:
        return self.kind == "networks" and any(addr.version == n.version and addr in n for n in self.networks)

    def __str__(self) -> str:
        if self.kind in ("namespaces", "pods"):
            ns = self.namespace_selector or EVERYTHING
            where = "all namespaces" if ns.is_empty else f"namespaces with {ns}"
            pods = self.pod_selector
            who = "all pods" if pods is None or pods.is_empty else f"pods with {pods}"
            return f"{who} in {where}"
        if self.kind == "networks":
            return "networks " + ", ".join(map(str, self.networks))
        if self.kind == "nodes":
            sel = self.node_selector or EVERYTHING
            return ("all nodes" if sel.is_empty else f"nodes with {sel}") + " (not modelled)"
        if self.kind == "domainNames":
            return "domain names " + ", ".join(self.domains) + " (not modelled)"
        return "a peer with no field this engine knows (failed closed)"


@dataclass(frozen=True)
class ClusterRule:
    name: str
    action: str  # Accept | Deny | Pass
    peers: tuple[ClusterPeer, ...]
    # Expanded port specs (a named port becomes one spec per protocol, since the API's named ports carry none);
    # None: the rule has no protocols/ports and matches every port of every protocol.
    ports: tuple[PortSpec, ...] | None = None
    port_origin: tuple[int, ...] = ()  # expanded index -> index of the entry in the object's list
    port_texts: tuple[str, ...] = ()  # per entry of the object's list

    @property
    def fail_closed(self) -> bool:
        return any(p.kind == "invalid" for p in self.peers)

    def port_text(self, expanded: int) -> str:
        return self.port_texts[self.port_origin[expanded]]

    def ports_text(self) -> str:
        return "any port" if self.ports is None else ", ".join(self.port_texts)


@dataclass
class ClusterPolicy:
    kind: str
    api_version: str
    name: str
    tier: str  # Admin | Baseline
    priority: int | None  # None for BaselineAdminNetworkPolicy
    subject_namespaces: Selector
    subject_pods: Selector | None  # None: every pod of the selected namespaces
    ingress: tuple[ClusterRule, ...] = ()
    egress: tuple[ClusterRule, ...] = ()
    source: str = ""

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def order(self) -> tuple[int, str, str]:
        """Evaluation order within a tier. Equal priorities are undefined by the API; the engine breaks ties by
        name (and warns when that matters)."""
        return (self.priority if self.priority is not None else 0, self.name, self.kind)

    def rules(self, direction: Direction) -> tuple[ClusterRule, ...]:
        return self.ingress if direction is INGRESS else self.egress

    def describe(self) -> str:
        prio = f", priority {self.priority}" if self.priority is not None else ""
        return f"{self.ref} ({self.tier} tier{prio})"

    def subject_text(self) -> str:
        ns = "all namespaces" if self.subject_namespaces.is_empty else f"namespaces with {self.subject_namespaces}"
        if self.subject_pods is None:
            return f"all pods in {ns}"
        pods = "all pods" if self.subject_pods.is_empty else f"pods with {self.subject_pods}"
        return f"{pods} in {ns}"


# ------------------------------------------------------------------------------------------------ parsing


def _one_of(obj: dict, allowed: tuple[str, ...], path: str, problems: list[str]) -> str | None:
    """The single field set in `obj` among `allowed`; a problem when several are."""
    present = [k for k in allowed if obj.get(k) is not None]
    if len(present) > 1:
        problems.append(f"{path}: exactly one of {', '.join(allowed)} must be set (has {', '.join(present)})")
        return None
    return present[0] if present else None


def _parse_namespaced_pod(obj: object, path: str, problems: list[str]) -> tuple[Selector, Selector] | None:
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a mapping, got {type(obj).__name__}")
        return None
    if obj.get("podSelector") is None:
        problems.append(f"{path}.podSelector: required")
        return None
    ns = parse_selector(obj.get("namespaceSelector"), f"{path}.namespaceSelector", problems)
    pods = parse_selector(obj.get("podSelector"), f"{path}.podSelector", problems)
    return ns, pods


def _parse_subject(obj: object, path: str, problems: list[str]) -> tuple[Selector, Selector | None] | None:
    if not isinstance(obj, dict):
        problems.append(f"{path}: required")
        return None
    which = _one_of(obj, ("namespaces", "pods"), path, problems)
    if which is None:
        if not any(obj.get(k) is not None for k in ("namespaces", "pods")):
            problems.append(f"{path}: exactly one of namespaces, pods must be set (has none)")
        return None
    if which == "namespaces":
        return parse_selector(obj["namespaces"], f"{path}.namespaces", problems), None
    return _parse_namespaced_pod(obj["pods"], f"{path}.pods", problems)


def _parse_peer(obj: object, kinds: tuple[str, ...], path: str, problems: list[str]) -> ClusterPeer | None:
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a mapping, got {type(obj).__name__}")
        return None
    known = _INGRESS_PEERS + ("networks", "nodes", "domainNames")
    which = _one_of(obj, known, path, problems)
    if which is None:
        if any(obj.get(k) is not None for k in known):
            return None  # several set: reported
        return ClusterPeer("invalid")
    if which not in kinds:
        problems.append(f"{path}.{which}: not a peer of this rule (allowed: {', '.join(kinds)})")
        return None
    value = obj[which]
    if which == "namespaces":
        return ClusterPeer("namespaces", namespace_selector=parse_selector(value, f"{path}.namespaces", problems))
    if which == "pods":
        sels = _parse_namespaced_pod(value, f"{path}.pods", problems)
        return None if sels is None else ClusterPeer("pods", namespace_selector=sels[0], pod_selector=sels[1])
    if which == "nodes":
        return ClusterPeer("nodes", node_selector=parse_selector(value, f"{path}.nodes", problems))
    if not isinstance(value, list) or not value:
        problems.append(f"{path}.{which}: must have at least 1 item (has 0)" if isinstance(value, list)
                        else f"{path}.{which}: must be of type array, got {type(value).__name__}")
        return None
    if which == "domainNames":
        return ClusterPeer("domainNames", domains=tuple(str(v) for v in value))
    nets: list[Network] = []
    for i, v in enumerate(value):
        try:  # the CRD: isCIDR(self) && cidr(self) == cidr(self).masked(), so host bits are refused
            nets.append(ipaddress.ip_network(v, strict=True) if isinstance(v, str) and "/" in v else _bad_cidr(v))
        except ValueError:
            problems.append(f"{path}.networks[{i}]: Invalid CIDR format provided")
    return ClusterPeer("networks", networks=tuple(nets))


def _bad_cidr(v: object) -> Network:
    raise ValueError(f"not a CIDR: {v!r}")


def _port_number(v: object, path: str, problems: list[str]) -> int | None:
    if v is None:
        problems.append(f"{path}: required")
    elif isinstance(v, bool) or not isinstance(v, int):
        problems.append(f"{path}: must be of type integer, got {type(v).__name__}")
    elif v > MAX_PORT:
        problems.append(f"{path}: must be at most {MAX_PORT} (is {v})")
    elif v < MIN_PORT:
        problems.append(f"{path}: must be at least {MIN_PORT} (is {v})")
    else:
        return v
    return None


def _port_range(obj: object, path: str, problems: list[str]) -> tuple[int, int] | None:
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a mapping, got {type(obj).__name__}")
        return None
    before = len(problems)
    start = _port_number(obj.get("start"), f"{path}.start", problems)
    end = _port_number(obj.get("end"), f"{path}.end", problems)
    if len(problems) > before or start is None or end is None:
        return None
    if not start < end:
        problems.append(f"{path}: Start port must be less than End port")
        return None
    return start, end


def _named(name: object, path: str, problems: list[str]) -> tuple[list[PortSpec], str] | None:
    if not isinstance(name, str) or not is_port_name(name):
        problems.append(f"{path}: invalid named port {name!r} (must be an IANA service name with a letter)")
        return None
    # The API's named ports carry no protocol: the destination's container port of that name decides it.
    return [PortSpec(p, name) for p in PROTOCOLS], f"named port {name}"


def _parse_protocol_entry(obj: object, path: str, problems: list[str]) -> tuple[list[PortSpec], str] | None:
    """One v1alpha2 `protocols` entry."""
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a mapping, got {type(obj).__name__}")
        return None
    which = _one_of(obj, ("tcp", "udp", "sctp", "destinationNamedPort"), path, problems)
    if which is None:
        if not any(obj.get(k) is not None for k in ("tcp", "udp", "sctp", "destinationNamedPort")):
            problems.append(f"{path}: exactly one of tcp, udp, sctp, destinationNamedPort must be set (has none)")
        return None
    if which == "destinationNamedPort":
        return _named(obj[which], f"{path}.destinationNamedPort", problems)
    proto = which.upper()
    body = obj[which]
    if not isinstance(body, dict):
        problems.append(f"{path}.{which}: expected a mapping, got {type(body).__name__}")
        return None
    dest = body.get("destinationPort")
    if dest is None:  # "If destinationPort is omitted, all ports for the specified protocol match."
        return [PortSpec(proto)], f"{proto} (any port)"
    dpath = f"{path}.{which}.destinationPort"
    if not isinstance(dest, dict):
        problems.append(f"{dpath}: expected a mapping, got {type(dest).__name__}")
        return None
    kind = _one_of(dest, ("number", "range"), dpath, problems)
    if kind is None:
        if dest.get("number") is None and dest.get("range") is None:
            problems.append(f"{dpath}: exactly one of number, range must be set (has none)")
        return None
    if kind == "number":
        n = _port_number(dest["number"], f"{dpath}.number", problems)
        return None if n is None else ([PortSpec(proto, n)], f"{proto} {n}")
    rng = _port_range(dest["range"], f"{dpath}.range", problems)
    return None if rng is None else ([PortSpec(proto, rng[0], rng[1])], f"{proto} {rng[0]}-{rng[1]}")


def _protocol_of(obj: dict, path: str, problems: list[str]) -> str:
    proto = obj.get("protocol")
    if proto is None:
        return "TCP"  # +kubebuilder:default=TCP
    if proto not in PROTOCOLS:
        problems.append(f"{path}.protocol: unsupported value {proto!r} (expected one of {', '.join(PROTOCOLS)})")
        return "TCP"
    return str(proto)


def _parse_port_entry(obj: object, path: str, problems: list[str]) -> tuple[list[PortSpec], str] | None:
    """One v1alpha1 `ports` entry."""
    if not isinstance(obj, dict):
        problems.append(f"{path}: expected a mapping, got {type(obj).__name__}")
        return None
    which = _one_of(obj, ("portNumber", "portRange", "namedPort"), path, problems)
    if which is None:
        if not any(obj.get(k) is not None for k in ("portNumber", "portRange", "namedPort")):
            problems.append(f"{path}: exactly one of portNumber, namedPort, portRange must be set (has none)")
        return None
    if which == "namedPort":
        return _named(obj[which], f"{path}.namedPort", problems)
    body = obj[which]
    bpath = f"{path}.{which}"
    if not isinstance(body, dict):
        problems.append(f"{bpath}: expected a mapping, got {type(body).__name__}")
        return None
    before = len(problems)
    proto = _protocol_of(body, bpath, problems)
    if which == "portNumber":
        n = _port_number(body.get("port"), f"{bpath}.port", problems)
        if n is None or len(problems) > before:
            return None
        return [PortSpec(proto, n)], f"{proto} {n}"
    rng = _port_range(body, bpath, problems)
    if rng is None or len(problems) > before:
        return None
    return [PortSpec(proto, rng[0], rng[1])], f"{proto} {rng[0]}-{rng[1]}"


def _parse_rules(kind: str, raw: object, direction: Direction, path: str,
                 problems: list[str]) -> tuple[ClusterRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{path}: expected a list, got {type(raw).__name__}")
        return ()
    peer_field = direction.peer_field
    peer_kinds = _INGRESS_PEERS if direction is Direction.INGRESS else _EGRESS_PEERS[kind]
    actions = _ACTIONS[kind]
    ports_field = "protocols" if kind == CNP else "ports"
    rules: list[ClusterRule] = []
    for ri, r in enumerate(raw):
        rpath = f"{path}[{ri}]"
        if not isinstance(r, dict):
            problems.append(f"{rpath}: expected a mapping, got {type(r).__name__}")
            continue
        before = len(problems)
        action = r.get("action")
        if action not in actions:
            problems.append(f"{rpath}.action: required" if action is None else
                            f"{rpath}.action: unsupported value {action!r} (expected one of {', '.join(actions)})")
        name = r.get("name") or ""
        if not isinstance(name, str):
            problems.append(f"{rpath}.name: expected a string, got {name!r}")
            name = ""
        raw_peers = r.get(peer_field)
        peers: list[ClusterPeer] = []
        if not isinstance(raw_peers, list) or not raw_peers:
            problems.append(f"{rpath}.{peer_field}: required" if raw_peers is None else
                            f"{rpath}.{peer_field}: must have at least 1 item (has 0)" if raw_peers == [] else
                            f"{rpath}.{peer_field}: must be of type array, got {type(raw_peers).__name__}")
        else:
            for pi, p in enumerate(raw_peers):
                peer = _parse_peer(p, peer_kinds, f"{rpath}.{peer_field}[{pi}]", problems)
                if peer is not None:
                    peers.append(peer)
        ports: list[PortSpec] | None = None
        origin: list[int] = []
        texts: list[str] = []
        raw_ports = r.get(ports_field)
        if raw_ports is not None:
            if not isinstance(raw_ports, list) or not raw_ports:
                problems.append(f"{rpath}.{ports_field}: must have at least 1 item (has 0)" if raw_ports == [] else
                                f"{rpath}.{ports_field}: must be of type array, got {type(raw_ports).__name__}")
            else:
                ports = []
                parse = _parse_protocol_entry if kind == CNP else _parse_port_entry
                for i, entry in enumerate(raw_ports):
                    parsed = parse(entry, f"{rpath}.{ports_field}[{i}]", problems)
                    if parsed is None:
                        continue
                    specs, text = parsed
                    ports += specs
                    origin += [len(texts)] * len(specs)
                    texts.append(text)
        if len(problems) > before:
            continue
        rules.append(ClusterRule(name, actions[str(action)], tuple(peers),
                                 tuple(ports) if ports is not None else None, tuple(origin), tuple(texts)))
    return tuple(rules)


def parse_cluster_policy(obj: dict[str, Any], kind: str, name: str, loc: str,
                         problems: list[str]) -> ClusterPolicy | None:
    """A cluster policy from its object, or None after appending "<loc>: field: message" problems."""
    errs: list[str] = []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        problems.append(f"{loc}: spec: required mapping")
        return None
    priority: int | None = None
    if kind == CNP:
        tier = spec.get("tier")
        if tier not in (ADMIN, BASELINE):
            errs.append("spec.tier: required" if tier is None else
                        f"spec.tier: unsupported value {tier!r} (expected one of Admin, Baseline)")
            tier = ADMIN
    else:
        tier = ADMIN if kind == ANP else BASELINE
    if kind in (CNP, ANP):
        raw = spec.get("priority")
        if raw is None:
            errs.append("spec.priority: required")
        elif isinstance(raw, bool) or not isinstance(raw, int):
            errs.append(f"spec.priority: must be of type integer, got {type(raw).__name__}")
        elif raw > MAX_PRIORITY:
            errs.append(f"spec.priority: must be at most {MAX_PRIORITY} (is {raw})")
        elif raw < MIN_PRIORITY:
            errs.append(f"spec.priority: must be at least {MIN_PRIORITY} (is {raw})")
        else:
            priority = raw
    elif name != "default":
        errs.append(f"metadata.name: a BaselineAdminNetworkPolicy must be named 'default', got {name!r}")
    subject = _parse_subject(spec.get("subject"), "spec.subject", errs)
    ingress = _parse_rules(kind, spec.get("ingress"), Direction.INGRESS, "spec.ingress", errs)
    egress = _parse_rules(kind, spec.get("egress"), Direction.EGRESS, "spec.egress", errs)
    if errs or subject is None:
        problems.extend(f"{loc}: {e}" for e in errs)
        return None
    return ClusterPolicy(kind, str(obj.get("apiVersion")), name, str(tier), priority, subject[0], subject[1],
                         ingress, egress, loc)


def covers(networks: tuple[Network, ...], pod_networks: tuple[Network, ...]) -> bool | None:
    """True when `networks` contain every pod network, False when they overlap none, None when they overlap part."""
    v4 = list(ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv4Network)))
    v6 = list(ipaddress.collapse_addresses(n for n in networks if isinstance(n, ipaddress.IPv6Network)))

    def inside(p: Network) -> bool:
        if isinstance(p, ipaddress.IPv4Network):
            return any(p.subnet_of(c) for c in v4)
        return any(p.subnet_of(c) for c in v6)

    def touches(p: Network) -> bool:
        if isinstance(p, ipaddress.IPv4Network):
            return any(p.overlaps(c) for c in v4)
        return any(p.overlaps(c) for c in v6)

    if all(inside(p) for p in pod_networks):
        return True
    return None if any(touches(p) for p in pod_networks) else False
