"""The reachability engine: workload classes, compiled policies, bitset matrices, verdicts with reasons.

Workloads with the same namespace, pod labels and container ports cannot be told apart by any NetworkPolicy, so
they share a *class*; every bitset is over classes (then external addresses, appended per call). For one
(port, protocol) the matrix is computed without any per-pair scan:

* ingress: each ingress rule contributes (sources it admits) x (targets whose ports match); contributions are
  grouped by identical source bitsets and transposed once, giving per source the destinations that admit it;
* egress: each egress rule contributes (destinations it admits, port-matched per destination for named ports)
  to every target; grouped by identical target bitsets;
* allowed[src] = egress[src] & (admitted[src] | destinations not isolated for ingress).

Cluster policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy) add tiers around
NetworkPolicy, per direction, exactly as the API orders them: the Admin tier's rules in priority then rule order
(the first match decides: Accept and Deny are final, Pass skips the rest of the tier), then NetworkPolicy for an
endpoint isolated in that direction (it always decides for the pods it selects), then the Baseline tier, then the
default (allow). Egress is judged at the source, ingress at the destination, and a connection needs both. For one
(port, protocol), per tier, classes selected by the same policies form a group whose row of Accept/Deny/Pass
bitsets is computed once; the ingress rows (over sources) are transposed by the same grouping, sparse side first:

  egress[src]  = A_eg | ~D_eg & (np_egress[src] if src is NP-isolated for egress else ~BaselineDeny_eg)
  ingress[src] = A_in | ~D_in & (np_admitted[src] | not-NP-isolated & ~BaselineDeny_in)   (over destinations)

A workload's traffic to itself is not part of the matrix or of `flows`. External endpoints (`ip:<addr>`) are not
pods: nothing isolates them, and they only ever match ipBlock peers (pod-to-pod never matches an ipBlock, since
pod IPs are not in manifests).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from kube.endpoints import ADDRESS_PREFIX, BLOCK_PREFIX, Endpoint

from .clusterpolicy import ACCEPT, ADMIN, BASELINE, DEFAULT_POD_NETWORKS, DENY
from .compile import (
    CompiledClusterPolicy,
    CompiledClusterRule,
    CompiledPolicy,
    CompiledRule,
    Compiler,
    compile_cluster_policy,
)
from .direction import INGRESS, Direction
from .ipblocks import Address, Network, endpoint_name, parse_address
from .manifests import gc_paused
from .model import NAME_LABEL, Cluster, Workload
from .ports import (
    MAX_PORT,
    MIN_PORT,
    PROTOCOLS,
    NamedPorts,
    PortSet,
    any_port_matches,
    parse_protocol_port,
    port_match_bits,
)
from .selectors import LabelIndex
from .verdict import ClusterRuleRef, Miss, RuleRef, Side, Verdict


def _rule_ports(rule: CompiledClusterRule) -> PortSet:
    """Every port a cluster rule can match anywhere (a named port: every port of its protocol)."""
    if rule.ports is None:
        return PortSet.all()
    out = PortSet()
    for spec in rule.ports:
        rng = spec.numeric_range() or (MIN_PORT, MAX_PORT)
        out = out | PortSet({spec.protocol: (rng,)})
    return out


class UnknownEndpoint(ValueError):
    def __init__(self, name: str, suggestions: list[str], split: bool = False):
        self.name = name
        self.suggestions = suggestions
        if split:
            # A controller whose pods carry different labels has no single answer: each pod has its own.
            super().__init__(f"{name!r} is analysed pod by pod (its pods carry pod-specific labels); name one of: "
                             f"{', '.join(suggestions)}")
            return
        hint = f"; did you mean: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown endpoint {name!r} (expected namespace/workload or ip:<address>){hint}")


def iter_bits(x: int) -> list[int]:
    """Positions of the set bits of x, ascending."""
    s = bin(x)[:1:-1]
    out = []
    i = s.find("1")
    while i >= 0:
        out.append(i)
        i = s.find("1", i + 1)
    return out


@dataclass(frozen=True)
class ResolvedEndpoint:
    """An endpoint's text resolved against this cluster: its workload and equivalence class, or its address."""

    name: str
    workload: Workload | None = None
    cls: int = -1
    address: Address | None = None

    @property
    def is_external(self) -> bool:
        return self.workload is None


def _normalise_ports(ports: Iterable[tuple[int, str] | str]) -> list[tuple[int, str]]:
    out = []
    for p in ports:
        if isinstance(p, str):
            out.append(parse_protocol_port(p))
        else:
            out.append((int(p[0]), str(p[1]).upper()))
    return out


class MatrixRow(Mapping):
    """dst -> allowed for one source, read from a bitset; the source itself is not a key."""

    __slots__ = ("_src", "_bits", "_names", "_cls")

    def __init__(self, src: str, bits: int, names: Sequence[str], cls: Mapping[str, int]):
        self._src, self._bits, self._names, self._cls = src, bits, names, cls

    def __getitem__(self, dst: str) -> bool:
        if dst == self._src:
            raise KeyError(dst)
        return bool(self._bits >> self._cls[dst] & 1)

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._names if n != self._src)

    def __len__(self) -> int:
        return len(self._names) - 1

    def allowed(self) -> list[str]:
        return [n for n in self._names if n != self._src and self._bits >> self._cls[n] & 1]


class MatrixView(Mapping):
    """src -> MatrixRow for one port; compares equal to a plain dict of dicts with the same content."""

    __slots__ = ("_names", "_cls", "_rows")

    def __init__(self, names: Sequence[str], cls: Mapping[str, int], rows: Sequence[int]):
        self._names, self._cls, self._rows = names, cls, rows

    def __getitem__(self, src: str) -> MatrixRow:
        return MatrixRow(src, self._rows[self._cls[src]], self._names, self._cls)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def to_dict(self) -> dict[str, dict[str, bool]]:
        return {s: dict(self[s].items()) for s in self._names}

    def allowed_pairs(self, sources: Sequence[str] | None = None,
                      destinations: Sequence[str] | None = None) -> Iterator[tuple[str, list[str]]]:
        """(src, the destinations it may reach, in `destinations` order) for each source; a workload is never its
        own destination. The cost follows the allowed pairs, not the cells."""
        dests = self._names if destinations is None else destinations
        members: dict[int, list[int]] = {}
        for j, n in enumerate(dests):
            members.setdefault(self._cls[n], []).append(j)
        mask = 0
        for c in members:
            mask |= 1 << c
        for src in self._names if sources is None else sources:
            hits = [j for c in iter_bits(self._rows[self._cls[src]] & mask) for j in members[c]]
            hits.sort()
            yield src, [dests[j] for j in hits if dests[j] != src]

    def json_rows(self, sources: Sequence[str] | None = None,
                  destinations: Sequence[str] | None = None) -> Iterator[tuple[str, str]]:
        """(src, its row as a JSON object) without building dicts: 3,000 workloads make 9M cells per port.

        Each row starts from a prepared all-false (or all-true, for dense rows) list of entries and only the
        exceptions are patched in, so the cost follows the allowed pairs rather than the cells.
        """
        names = self._names if destinations is None else destinations
        column = {n: j for j, n in enumerate(names)}
        keys = [json.dumps(n) + ": " for n in names]
        false_parts = [k + "false" for k in keys]
        true_parts = [k + "true" for k in keys]
        members: dict[int, list[int]] = {}
        for j, n in enumerate(names):
            members.setdefault(self._cls[n], []).append(j)
        mask = 0
        for c in members:
            mask |= 1 << c
        half = len(members) // 2
        for src in self._names if sources is None else sources:
            bits = self._rows[self._cls[src]] & mask
            if bits.bit_count() <= half:
                parts, patch, flip = false_parts.copy(), true_parts, bits
            else:
                parts, patch, flip = true_parts.copy(), false_parts, mask & ~bits
            for c in iter_bits(flip):
                for j in members[c]:
                    parts[j] = patch[j]
            if src in column:
                del parts[column[src]]
            yield src, "{" + ", ".join(parts) + "}"

    def count_allowed(self) -> int:
        """Allowed ordered pairs, self-pairs excluded; computed from the bitsets without materialising rows."""
        members: dict[int, int] = {}
        for n in self._names:
            c = self._cls[n]
            members[c] = members.get(c, 0) + 1
        total = 0
        for c, k in members.items():
            bits = self._rows[c]
            reach = sum(members.get(d, 0) for d in iter_bits(bits))
            total += k * reach - (k if bits >> c & 1 else 0)
        return total


@dataclass(frozen=True)
class TierGroup:
    """Classes selected by the same cluster policies of one tier and direction: they share one decision row."""

    members: int  # bitset of classes
    rules: tuple[CompiledClusterRule, ...]  # the rules of those policies, in evaluation order
    representative: int  # a member class (ingress: named ports resolve on it; members share them)


def _transpose(rows: Iterable[tuple[int, int]], n: int) -> list[int]:
    """`rows` are (members, row) with disjoint members: out[s] = union of the members whose row holds s.

    Rows denser than half are transposed through their complement, so "deny everyone but a few" costs a few."""
    by_row: dict[int, int] = {}
    for members, row in rows:
        if row:
            by_row[row] = by_row.get(row, 0) | members
    out = [0] * n
    if not by_row:
        return out
    everyone = (1 << n) - 1
    dense = 0
    holes: dict[int, int] = {}
    for row, members in by_row.items():
        if row.bit_count() * 2 <= n:
            for s in iter_bits(row):
                out[s] |= members
        else:
            dense |= members
            for s in iter_bits(everyone & ~row):
                holes[s] = holes.get(s, 0) | members
    if dense:
        for s in range(n):
            out[s] |= dense & ~holes.get(s, 0)
    return out


class Engine:
    """Verdicts, matrices and flows over one cluster's manifests.

    `pod_networks`: where pod IPs live, for cluster-policy `networks` peers (which match pod traffic too); by
    default all of IPv4, so only a peer covering 0.0.0.0/0 is certain to match every pod."""

    def __init__(self, cluster: Cluster, pod_networks: Iterable[Network] | None = None):
        self.pod_networks: tuple[Network, ...] = tuple(pod_networks) if pod_networks else DEFAULT_POD_NETWORKS
        with gc_paused():
            self._build(cluster)

    def _build(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._ws: list[Workload] = sorted(cluster.workloads, key=lambda w: w.endpoint)
        self.workloads: list[str] = [w.endpoint for w in self._ws]
        self._by_name: dict[str, int] = {n: i for i, n in enumerate(self.workloads)}

        keys: dict[tuple, int] = {}
        self._class_of: list[int] = []
        self._class_ns: list[str] = []
        self._class_members: list[list[int]] = []
        pod_labels, ns_labels, named = [], [], []
        host_network: dict[int, tuple] = {}
        for i, w in enumerate(self._ws):
            key = (w.namespace, frozenset(w.labels.items()), frozenset(w.ports), w.host_network, w.node_addresses)
            c = keys.get(key)
            if c is None:
                c = keys[key] = len(keys)
                if w.host_network:
                    host_network[c] = w.node_addresses
                self._class_ns.append(w.namespace)
                self._class_members.append([])
                pod_labels.append(w.labels)
                ns_labels.append(cluster.namespaces[w.namespace].labels)
                named.append(w.named_ports())
            self._class_of.append(c)
            self._class_members[c].append(i)
        self.n_classes = len(keys)
        self._class_named: Sequence[NamedPorts] = named

        ns_bits: dict[str, int] = {}
        for c, ns in enumerate(self._class_ns):
            ns_bits[ns] = ns_bits.get(ns, 0) | (1 << c)
        # (port name, protocol) -> port number -> classes whose container port of that name is that number
        self._named_index: dict[tuple[str, str], dict[int, int]] = {}
        for c, np in enumerate(named):
            for name_proto, nums in np.items():
                for n in nums:
                    slot = self._named_index.setdefault(name_proto, {})
                    slot[n] = slot.get(n, 0) | (1 << c)

        compiler = Compiler(LabelIndex(pod_labels), LabelIndex(ns_labels), ns_bits, host_network)
        self.policies: list[CompiledPolicy] = [compiler.policy(p) for p in cluster.policies]
        self._by_ns: dict[str, list[CompiledPolicy]] = {}
        for cp in self.policies:
            self._by_ns.setdefault(cp.policy.namespace, []).append(cp)
        self._ingress = [cp for cp in self.policies if cp.policy.affects_ingress and cp.targets]
        self._egress = [cp for cp in self.policies if cp.policy.affects_egress and cp.targets]

        # What the engine reads but cannot model, and orderings the API leaves undefined: one sentence each.
        self.warnings: list[str] = []
        ordered = sorted(cluster.cluster_policies, key=lambda p: p.order)
        self.cluster_policies: list[CompiledClusterPolicy] = [
            compile_cluster_policy(compiler, p, self.pod_networks, self.warnings) for p in ordered]
        self._tiers: dict[str, list[CompiledClusterPolicy]] = {
            tier: [cp for cp in self.cluster_policies if cp.policy.tier == tier] for tier in (ADMIN, BASELINE)}
        self._groups: dict[tuple[str, Direction], list[TierGroup]] = {
            (tier, d): self._tier_groups(self._tiers[tier], d) for tier in (ADMIN, BASELINE) for d in Direction}
        self.warnings += self._tie_warnings()

    def _tier_groups(self, policies: list[CompiledClusterPolicy], direction: Direction) -> list[TierGroup]:
        per_class: dict[int, list[int]] = {}
        for i, cp in enumerate(policies):
            if cp.rules(direction):
                for c in iter_bits(cp.subjects):
                    per_class.setdefault(c, []).append(i)
        names_used = {spec.port for cp in policies for r in cp.rules(direction) for spec in r.ports or ()
                      if spec.is_named}
        groups: dict[tuple, list[int]] = {}
        for c, idxs in per_class.items():
            named: frozenset = frozenset()
            if direction is INGRESS and names_used:  # ingress named ports resolve on the member itself
                named = frozenset((k, v) for k, v in self._class_named[c].items() if k[0] in names_used)
            groups.setdefault((tuple(idxs), named), []).append(c)
        out = []
        for (idxs, _), classes in groups.items():
            members = 0
            for c in classes:
                members |= 1 << c
            rules = tuple(r for i in idxs for r in policies[i].rules(direction))
            out.append(TierGroup(members, rules, classes[0]))
        return out

    def _tie_warnings(self) -> list[str]:
        """Equal-priority policies of one tier that can both match a flow with different actions."""
        out = []
        kinds = {tier: {cp.policy.kind for cp in cps} for tier, cps in self._tiers.items()}
        for tier, ks in kinds.items():
            if len(ks) > 1:
                out.append(f"the {tier} tier mixes {', '.join(sorted(ks))}: no cluster serves both API versions, "
                           "so their relative order is undefined; the engine orders them by priority, then name "
                           "(a BaselineAdminNetworkPolicy counting as priority 0)")
        for tier, cps in self._tiers.items():
            by_priority: dict[int, list[int]] = {}
            for i, cp in enumerate(cps):
                by_priority.setdefault(cp.policy.order[0], []).append(i)
            pairs: set[tuple[int, int]] = set()
            for idxs in by_priority.values():
                if len(idxs) < 2:
                    continue
                by_class: dict[int, list[int]] = {}  # only policies sharing a selected class can clash
                for i in idxs:
                    for c in iter_bits(cps[i].subjects):
                        by_class.setdefault(c, []).append(i)
                for shared in by_class.values():
                    pairs.update((a, b) for k, a in enumerate(shared) for b in shared[k + 1:])
            for a, b in sorted(pairs):
                p, q = cps[a], cps[b]
                clash = self._clash(p, q)
                if clash:
                    out.append(f"{p.ref} and {q.ref} have the same priority {p.policy.order[0]} in the {tier} "
                               f"tier and can both match {clash}; the API leaves their order undefined, the "
                               f"engine applies {p.ref} first (by name)")
        return out

    @staticmethod
    def _clash(p: CompiledClusterPolicy, q: CompiledClusterPolicy) -> str:
        for direction in (Direction.EGRESS, Direction.INGRESS):
            for r1 in p.rules(direction):
                for r2 in q.rules(direction):
                    if r1.action == r2.action:
                        continue
                    peers = r1.classes & r2.classes or r1.every_peer or r2.every_peer or any(
                        a.version == b.version and a.overlaps(b) for a in r1.networks() for b in r2.networks())
                    if peers and _rule_ports(r1) & _rule_ports(r2):
                        n1 = f" {r1.rule.name!r}" if r1.rule.name else ""
                        n2 = f" {r2.rule.name!r}" if r2.rule.name else ""
                        return (f"{direction} traffic with different actions ({direction} rule {r1.index}{n1} "
                                f"{r1.action} vs rule {r2.index}{n2} {r2.action})")
        return ""

    # ------------------------------------------------------------------------------------------------ endpoints

    def resolve(self, name: str) -> ResolvedEndpoint:
        i = self._by_name.get(name)
        if i is None and name in self.cluster.aliases:
            i = self._by_name.get(self.cluster.aliases[name])
        if i is not None:
            return ResolvedEndpoint(self.workloads[i], self._ws[i], self._class_of[i])
        if name.startswith(ADDRESS_PREFIX):
            addr = parse_address(name)
            return ResolvedEndpoint(endpoint_name(addr), address=addr)
        try:
            addr = parse_address(name)
        except ValueError:
            pass
        else:
            return ResolvedEndpoint(endpoint_name(addr), address=addr)
        if name in self.cluster.split:
            raise UnknownEndpoint(name, self.cluster.split[name], split=True)
        raise UnknownEndpoint(name, self.suggest(name))

    def suggest(self, name: str, n: int = 5) -> list[str]:
        close = difflib.get_close_matches(name, self.workloads, n=n, cutoff=0.5)
        parsed = Endpoint.parse_or_none(name)
        tail = parsed.name if parsed is not None else name
        for w in self.workloads:
            if len(close) >= n:
                break
            if tail and tail in w and w not in close:
                close.append(w)
        return close

    def _externals(self, externals: Iterable[str]) -> list[Address]:
        seen: dict[Address, None] = {}
        for e in externals:
            seen.setdefault(parse_address(e), None)
        return list(seen)

    # ------------------------------------------------------------------------------------------------ verdicts

    def _selecting(self, ep: ResolvedEndpoint, direction: Direction) -> list[CompiledPolicy]:
        if ep.workload is None:
            return []
        return [
            cp
            for cp in self._by_ns.get(ep.workload.namespace, ())
            if cp.affects(direction) and cp.targets >> ep.cls & 1
        ]

    @staticmethod
    def _first_peer(every: bool, rule_classes: int, peers: Sequence[Any], admits: Callable[[Any], bool],
                    other: ResolvedEndpoint) -> int | None:
        """Index of the first peer matching `other`, -1 when every peer does, None if none does. One walk for
        NetworkPolicy and cluster-policy rules: both keep per-peer class bitsets and answer addresses per peer."""
        if every:
            return -1
        if other.workload is None:
            for p in peers:
                if admits(p):
                    return int(p.index)
            return None
        if not rule_classes >> other.cls & 1:
            return None
        for p in peers:
            if p.classes >> other.cls & 1:
                return int(p.index)
        return None

    @staticmethod
    def _peer_match(rule: CompiledRule, other: ResolvedEndpoint) -> int | None:
        """Index of the first peer admitting `other`, -1 if the rule admits every peer, None if none does."""
        return Engine._first_peer(rule.peers is None, rule.classes, rule.peers or (),
                                  lambda p: p.admits_address(other.address), other)

    def _named(self, ep: ResolvedEndpoint) -> NamedPorts | None:
        return None if ep.workload is None else self._class_named[ep.cls]

    def _side(self, direction: Direction, judged: ResolvedEndpoint, other: ResolvedEndpoint, dst: ResolvedEndpoint,
              port: int, proto: str) -> Side:
        if judged.workload is None:
            return Side(direction, judged.name, isolated=False, external=True)
        if judged.workload.host_network:
            return Side(direction, judged.name, isolated=False, host_network=True)
        selecting = self._selecting(judged, direction)
        side = Side(direction, judged.name, isolated=bool(selecting), selecting_policies=[cp.ref for cp in selecting])
        named = self._named(dst)
        for cp in selecting:
            for rule in cp.rules(direction):
                peer = self._peer_match(rule, other)
                if peer is None:
                    continue
                pi = any_port_matches(rule.ports, port, proto, named)
                if pi is None:
                    continue
                side.admitting.append(
                    RuleRef(
                        cp.ref, direction, rule.index,
                        None if peer < 0 else peer,
                        None if pi < 0 else pi,
                        # mypy cannot see it: a matched rule with peer >= 0 has peers (None means 'every peer')
                        "" if peer < 0 else str(rule.peers[peer].peer),  # type: ignore[index]
                        # mypy cannot see it: a matched rule with pi >= 0 has ports (None means 'every port')
                        "" if pi < 0 else self._port_text(rule.ports[pi], port),  # type: ignore[index]
                    )
                )
        if side.admitting:
            side.admitted_by = side.admitting[0]
        elif selecting:
            side.misses = self._misses(selecting, direction, other, dst, port, proto)
        if self.cluster_policies:
            side.admin_policies, side.admin_rule, ties = self._tier_side(ADMIN, direction, judged, other, dst, port,
                                                                         proto)
            side.baseline_policies, side.baseline_rule, more = self._tier_side(BASELINE, direction, judged, other,
                                                                               dst, port, proto)
            side.ties = ties + more
        return side

    @staticmethod
    def _cluster_peer_match(rule: CompiledClusterRule, other: ResolvedEndpoint) -> int | None:
        """Index of the first peer matching `other`, -1 when the rule failed closed (every peer), None if none."""
        return Engine._first_peer(rule.every_peer, rule.classes, rule.peers,
                                  lambda p: p.peer.admits_address(other.address), other)

    def _tier_side(self, tier: str, direction: Direction, judged: ResolvedEndpoint, other: ResolvedEndpoint,
                   dst: ResolvedEndpoint, port: int, proto: str) -> tuple[list[str], ClusterRuleRef | None, list[str]]:
        """The tier's policies selecting `judged`, its first rule matching the flow, and equal-priority clashes."""
        named = self._named(dst)
        selecting: list[str] = []
        first: ClusterRuleRef | None = None
        first_order: int | None = None
        ties: list[str] = []
        for cp in self._tiers[tier]:
            rules = cp.rules(direction)
            if not rules or not cp.subjects >> judged.cls & 1:
                continue
            if first is not None and cp.policy.order[0] != first_order:
                break  # the decision is made and no equal-priority policy is left to disagree with it
            selecting.append(cp.policy.describe())
            for rule in rules:
                peer = self._cluster_peer_match(rule, other)
                if peer is None:
                    continue
                pi = any_port_matches(rule.ports, port, proto, named)
                if pi is None:
                    continue
                ref = ClusterRuleRef(
                    cp.ref, tier, cp.policy.priority, direction, rule.index, rule.rule.name, rule.action,
                    None if peer < 0 else peer, None if pi < 0 else rule.rule.port_origin[pi],
                    "" if peer < 0 else str(rule.peers[peer].peer),
                    "" if pi < 0 else self._cluster_port_text(rule, pi, port),
                )
                if first is None:
                    first, first_order = ref, cp.policy.order[0]
                elif ref.action != first.action:
                    ties.append(f"{first.policy} and {ref.policy} have the same priority {first_order} in the "
                                f"{tier} tier and disagree on this flow ({first.action} vs {ref.action}); the API "
                                f"leaves their order undefined, the engine applies {first.policy} (first by name)")
                break
        if first is not None:
            # Policies after the deciding one still select the endpoint; list them for the reader.
            listed = set(selecting)
            selecting += [cp.policy.describe() for cp in self._tiers[tier]
                          if cp.rules(direction) and cp.subjects >> judged.cls & 1
                          and cp.policy.describe() not in listed]
        return selecting, first, ties

    @staticmethod
    def _cluster_port_text(rule: CompiledClusterRule, pi: int, port: int) -> str:
        text = rule.rule.port_text(pi)
        # mypy cannot see it: called only for a rule matched on port pi, so it has ports
        return f"{text} (= {port} on the destination)" if rule.ports[pi].is_named else text  # type: ignore[index]

    @staticmethod
    def _port_text(spec, port: int) -> str:
        return f"{spec} (= {port} on the destination)" if spec.is_named else str(spec)

    def verdict(self, src: str, dst: str, port: int, protocol: str = "TCP") -> Verdict:
        protocol = protocol.upper()
        s, d = self.resolve(src), self.resolve(dst)
        return Verdict(
            s.name, d.name, port, protocol,
            egress=self._side(Direction.EGRESS, s, d, d, port, protocol),
            ingress=self._side(Direction.INGRESS, d, s, d, port, protocol),
        )

    # -------------------------------------------------------------------------------------------- closest misses

    # A peer of the wrong kind (pod vs address) is farther from matching than any number of label differences.
    KIND_MISMATCH = 10

    def _peer_reasons(self, cp: CompiledPolicy, rule: CompiledRule, idx: int, other: ResolvedEndpoint) -> tuple[float, list[str]]:
        peer = rule.peers[idx].peer  # type: ignore[index]  # misses are scored only for peers listed by the rule
        if other.workload is None:
            if peer.ip_block is None:
                return self.KIND_MISMATCH, [f"{other.name} is an external address; only ipBlock peers admit those"]
            block, address = peer.ip_block, other.address
            assert address is not None, "resolve() gives every external endpoint its address"
            hole = block.excluded_by(address)
            if hole is not None:
                return 1, [f"{other.name} falls in the except range {hole}"]
            if address.version != block.cidr.version:
                return 1.9, [f"{other.name} is IPv{address.version}, {block.cidr} is IPv{block.cidr.version}"]
            # Nearer blocks first: the fewer leading bits the address shares with the block, the farther it is.
            apart = (int(address) ^ int(block.cidr.network_address)).bit_length()
            return 1 + apart / (2 * block.cidr.max_prefixlen + 1), [f"{other.name} is outside {block.cidr}"]
        w = other.workload
        if w.host_network:
            if peer.ip_block is None:
                return self.KIND_MISMATCH, [f"{other.name} is a hostNetwork pod: its traffic carries its node's "
                                            "address, which pod and namespace selectors never match"]
            known = ", ".join(map(str, w.node_addresses)) or "not in the input"
            return 1, [f"{other.name} is a hostNetwork pod whose node address ({known}) is outside {peer.ip_block}"]
        if peer.ip_block is not None:
            return self.KIND_MISMATCH, [f"{other.name} is a pod; ipBlock peers only match addresses outside the cluster"]
        reasons = []
        if peer.namespace_selector is None:
            if w.namespace != cp.policy.namespace:
                reasons.append(f"{other.name} is in namespace {w.namespace}, not {cp.policy.namespace}")
        else:
            ns = self.cluster.namespaces[w.namespace]
            misses = peer.namespace_selector.misses(ns.labels)
            if misses and not ns.declared:
                reasons.append(f"namespace {w.namespace} is not in the input, so its labels are unknown (only "
                               f"{NAME_LABEL} is assumed)")
            else:
                reasons += [f"namespace {w.namespace} {r.describe_miss(ns.labels)}" for r in misses]
        if peer.pod_selector is not None:
            reasons += [f"{other.name} {r.describe_miss(w.labels)}" for r in peer.pod_selector.misses(w.labels)]
        return len(reasons), reasons

    @staticmethod
    def _port_reason(rule: CompiledRule, port: int, proto: str, dst: ResolvedEndpoint, named: NamedPorts | None) -> str:
        parts = []
        for spec in rule.ports or ():
            if spec.is_named:
                # mypy cannot see it: a named spec's port is its name (a str)
                nums = sorted((named or {}).get((spec.port, spec.protocol), ()))  # type: ignore[arg-type]
                where = ", ".join(map(str, nums)) if nums else f"nothing on {dst.name}"
                parts.append(f"{spec} (= {where})")
            else:
                parts.append(str(spec))
        return f"{port}/{proto} is not among its ports {', '.join(parts)}"

    def _misses(self, selecting: list[CompiledPolicy], direction: Direction, other: ResolvedEndpoint,
                dst: ResolvedEndpoint, port: int, proto: str) -> list[Miss]:
        named = self._named(dst)
        scored: list[tuple[float, Miss]] = []
        for cp in selecting:
            rules = cp.rules(direction)
            if not rules:
                scored.append((1000, Miss(cp.ref, direction, None, None, "nothing", ("it has no rules",))))
                continue
            for rule in rules:
                port_ok = any_port_matches(rule.ports, port, proto, named) is not None
                port_reasons = [] if port_ok else [self._port_reason(rule, port, proto, dst, named)]
                ports_text = "any port" if rule.ports is None else ", ".join(map(str, rule.ports))
                if rule.peers is None:
                    scored.append((len(port_reasons), Miss(cp.ref, direction, rule.index, None,
                                                           f"any peer on {ports_text}", tuple(port_reasons))))
                    continue
                best = None
                for p in rule.peers:
                    score, reasons = self._peer_reasons(cp, rule, p.index, other)
                    if best is None or score < best[0]:
                        best = (score, reasons + port_reasons, p)
                score, reasons, p = best  # type: ignore[misc]  # the loop over at least one peer has set best
                scored.append((score + len(port_reasons), Miss(cp.ref, direction, rule.index, p.index,
                                                  f"{p.peer} on {ports_text}", tuple(reasons))))
        scored.sort(key=lambda t: (t[0], t[1].policy, t[1].rule if t[1].rule is not None else -1))
        return [m for _, m in scored]

    # ------------------------------------------------------------------------------------------------ port sets

    def _side_ports(self, direction: Direction, judged: ResolvedEndpoint, other: ResolvedEndpoint,
                    dst: ResolvedEndpoint) -> PortSet:
        if judged.workload is not None and judged.workload.host_network:
            return PortSet.all()
        selecting = self._selecting(judged, direction)
        if not selecting:
            return PortSet.all()
        named = self._named(dst)
        out = PortSet()
        for cp in selecting:
            for rule in cp.rules(direction):
                if self._peer_match(rule, other) is None:
                    continue
                if rule.ports is None:
                    return PortSet.all()
                for spec in rule.ports:
                    out = out | spec.resolve(named)
        return out

    def _tier_ports(self, tier: str, direction: Direction, judged: ResolvedEndpoint, other: ResolvedEndpoint,
                    dst: ResolvedEndpoint) -> tuple[PortSet, PortSet]:
        """(accepted, denied) ports of the tier's decision for this pair; the rest is passed or undecided."""
        accept, deny, remaining = PortSet(), PortSet(), PortSet.all()
        named = self._named(dst)
        for cp in self._tiers[tier]:
            if not cp.subjects >> judged.cls & 1:
                continue
            for rule in cp.rules(direction):
                if self._cluster_peer_match(rule, other) is None:
                    continue
                ports = PortSet.all()
                if rule.ports is not None:
                    ports = PortSet()
                    for spec in rule.ports:
                        ports = ports | spec.resolve(named)
                m = ports & remaining
                if not m:
                    continue
                remaining = remaining - m
                if rule.action == ACCEPT:
                    accept = accept | m
                elif rule.action == DENY:
                    deny = deny | m
                if not remaining:
                    return accept, deny
        return accept, deny

    def _tiered_side_ports(self, direction: Direction, judged: ResolvedEndpoint, other: ResolvedEndpoint,
                           dst: ResolvedEndpoint) -> PortSet:
        ports = self._side_ports(direction, judged, other, dst)
        if judged.workload is None or not self.cluster_policies:
            return ports
        accept, deny = self._tier_ports(ADMIN, direction, judged, other, dst)
        if not self._selecting(judged, direction):
            ports = PortSet.all() - self._tier_ports(BASELINE, direction, judged, other, dst)[1]
        return accept | (ports - deny)

    def allowed_ports(self, src: str, dst: str) -> PortSet:
        """Every (protocol, port) on which src may open a connection to dst."""
        s, d = self.resolve(src), self.resolve(dst)
        return self._tiered_side_ports(Direction.EGRESS, s, d, d) & self._tiered_side_ports(Direction.INGRESS, d, s, d)

    # ------------------------------------------------------------------------------------------------ matrices

    def _rows(self, port: int, proto: str, ext: Sequence[Address], ext_cache: dict[int, int]) -> list[int]:
        """Per source position (classes, then externals): bitset of destination positions allowed."""
        C = self.n_classes
        N = C + len(ext)
        everyone = (1 << N) - 1
        named_bits = {name: by_port.get(port, 0)
                      for (name, p), by_port in self._named_index.items() if p == proto}

        def peers(rule: CompiledRule) -> int:
            if not ext:
                return rule.classes
            bits = ext_cache.get(id(rule))
            if bits is None:
                bits = ext_cache[id(rule)] = rule.classes | rule.external_bits(ext, C)
            return bits

        isolated_in = 0
        by_sources: dict[int, int] = {}  # sources admitted -> destinations admitting them
        for cp in self._ingress:
            targets = cp.targets
            isolated_in |= targets
            for rule in cp.ingress:
                dsts = targets & port_match_bits(rule.ports, port, proto, everyone, named_bits)
                if dsts:
                    srcs = peers(rule)
                    if srcs:
                        by_sources[srcs] = by_sources.get(srcs, 0) | dsts
        admitted = [0] * N
        for srcs, dsts in by_sources.items():
            for s in iter_bits(srcs):
                admitted[s] |= dsts
        open_in = everyone & ~isolated_in

        by_targets: dict[int, int] = {}  # sources -> destinations their egress admits
        for cp in self._egress:
            acc = by_targets.get(cp.targets, 0)
            for rule in cp.egress:
                acc |= peers(rule) & port_match_bits(rule.ports, port, proto, everyone, named_bits)
            by_targets[cp.targets] = acc
        egress = [everyone] * N
        for targets in by_targets:
            for s in iter_bits(targets):
                egress[s] = 0
        for targets, dsts in by_targets.items():
            for s in iter_bits(targets):
                egress[s] |= dsts
        if not self.cluster_policies:
            return [egress[s] & (admitted[s] | open_in) for s in range(N)]

        def tier(t: str, direction: Direction) -> list[tuple[int, int, int]]:
            return self._tier_rows(self._groups[(t, direction)], direction, port, proto, everyone, named_bits,
                                   cluster_peers)

        def cluster_peers(rule: CompiledClusterRule) -> int:
            if rule.every_peer:
                return everyone
            if not ext or not rule.has_networks:
                return rule.classes
            bits = ext_cache.get(id(rule))
            if bits is None:
                bits = ext_cache[id(rule)] = rule.classes | rule.external_bits(ext, C)
            return bits

        isolated_eg = 0
        for targets in by_targets:
            isolated_eg |= targets
        accept_eg, deny_eg, base_deny_eg = [0] * N, [0] * N, [0] * N
        for members, acc, deny in tier(ADMIN, Direction.EGRESS):
            for s in iter_bits(members):
                accept_eg[s], deny_eg[s] = acc, deny
        for members, _, deny in tier(BASELINE, Direction.EGRESS):
            for s in iter_bits(members):
                base_deny_eg[s] = deny
        admin_in = tier(ADMIN, Direction.INGRESS)
        accept_in = _transpose(((m, a) for m, a, _ in admin_in), N)
        deny_in = _transpose(((m, d) for m, _, d in admin_in), N)
        base_deny_in = _transpose(((m, d) for m, _, d in tier(BASELINE, Direction.INGRESS)), N)
        rows = []
        for s in range(N):
            below = egress[s] if isolated_eg >> s & 1 else everyone & ~base_deny_eg[s]
            out = accept_eg[s] | (below & ~deny_eg[s])
            below = admitted[s] | (open_in & ~base_deny_in[s])
            rows.append(out & (accept_in[s] | (below & ~deny_in[s])))
        return rows

    def _tier_rows(self, groups: list[TierGroup], direction: Direction, port: int, proto: str, everyone: int,
                   named_bits: Mapping[str, int],
                   peers: Callable[[CompiledClusterRule], int]) -> list[tuple[int, int, int]]:
        """Per group: (members, accepted, denied) bitsets over peers (egress: destinations, ingress: sources)."""
        out = []
        egress = direction is Direction.EGRESS
        for g in groups:
            decided = accept = deny = 0
            named = self._class_named[g.representative]
            for rule in g.rules:
                if egress:
                    m = peers(rule) & port_match_bits(rule.ports, port, proto, everyone, named_bits)
                elif any_port_matches(rule.ports, port, proto, named) is not None:
                    m = peers(rule)
                else:
                    continue
                m &= ~decided
                if not m:
                    continue
                decided |= m
                if rule.action == ACCEPT:
                    accept |= m
                elif rule.action == DENY:
                    deny |= m
                if decided == everyone:
                    break
            out.append((g.members, accept, deny))
        return out

    def _positions(self, ext: Sequence[Address]) -> tuple[list[str], dict[str, int]]:
        names = self.workloads + [endpoint_name(a) for a in ext]
        pos = {n: self._class_of[i] for i, n in enumerate(self.workloads)}
        for j, a in enumerate(ext):
            pos[endpoint_name(a)] = self.n_classes + j
        return names, pos

    def matrix(self, ports: Iterable[tuple[int, str] | str], externals: Iterable[str] = (),
               between_externals: bool = True) -> dict[tuple[int, str], MatrixView]:
        """(port, protocol) -> src -> dst -> allowed, over every workload and external address (self excluded).

        Nothing restricts traffic between two external addresses; with `between_externals=False` such pairs are
        reported not allowed instead, as no policy governs them (the CLI's view: they are not cluster traffic)."""
        ext = self._externals(externals)
        names, pos = self._positions(ext)
        cache: dict[int, int] = {}
        inside = (1 << self.n_classes) - 1

        def rows(port: int, proto: str) -> list[int]:
            computed = self._rows(port, proto, ext, cache)
            if between_externals:
                return computed
            return [r if s < self.n_classes else r & inside for s, r in enumerate(computed)]

        return {
            (port, proto): MatrixView(names, pos, rows(port, proto))
            for port, proto in _normalise_ports(ports)
        }

    def _intervals(self) -> list[tuple[str, int, int]]:
        """Port ranges within which every rule's answer is constant: the matrix is computed once per range."""
        cuts: dict[str, set[int]] = {p: {MIN_PORT, MAX_PORT + 1} for p in PROTOCOLS}
        specs = [spec for cp in self.policies for rule in cp.ingress + cp.egress for spec in rule.ports or ()]
        specs += [spec for ccp in self.cluster_policies for crule in ccp.ingress + ccp.egress
                  for spec in crule.ports or ()]
        for spec in specs:
            rng = spec.numeric_range()
            if rng is not None:
                cuts[spec.protocol].update((rng[0], rng[1] + 1))
            else:
                # mypy cannot see it: a named spec's port is its name (a str)
                for n in self._named_index.get((spec.port, spec.protocol), {}):  # type: ignore[arg-type]
                    cuts[spec.protocol].update((n, n + 1))
        out = []
        for proto in PROTOCOLS:
            points = sorted(cuts[proto])
            out += [(proto, lo, hi - 1) for lo, hi in zip(points, points[1:])]
        return out

    def flows(self, externals: Iterable[str] = ()) -> dict[tuple[str, str], PortSet]:
        """(src, dst) -> allowed PortSet for every pair allowed on at least one port.

        Excluded: a workload to itself, and one external address to another (not cluster traffic).
        """
        ext = self._externals(externals)
        C = self.n_classes
        N = C + len(ext)
        intervals = self._intervals()
        cache: dict[int, int] = {}
        rows_by_interval = [self._rows(lo, proto, ext, cache) for proto, lo, _ in intervals]
        members: list[list[str]] = [[self.workloads[i] for i in m] for m in self._class_members]
        members += [[endpoint_name(a)] for a in ext]
        portsets: dict[tuple[int, ...], PortSet] = {}
        out: dict[tuple[str, str], PortSet] = {}
        everyone = (1 << N) - 1
        for s in range(N):
            if s >= C:
                # Flows between two external addresses do not cross the cluster; keep them out of flows.
                everyone_s = (1 << C) - 1
            else:
                everyone_s = everyone
            # Partition destinations by the exact set of intervals on which they are reachable.
            parts: dict[tuple[int, ...], int] = {(): everyone_s}
            for k, rows in enumerate(rows_by_interval):
                b = rows[s]
                if not b:
                    continue
                nxt: dict[tuple[int, ...], int] = {}
                for key, bits in parts.items():
                    inside, outside = bits & b, bits & ~b
                    if inside:
                        nxt[key + (k,)] = nxt.get(key + (k,), 0) | inside
                    if outside:
                        nxt[key] = nxt.get(key, 0) | outside
                parts = nxt
            for key, bits in parts.items():
                if not key:
                    continue
                ps = portsets.get(key)
                if ps is None:
                    ranges: dict[str, list[tuple[int, int]]] = {}
                    for k in key:
                        proto, lo, hi = intervals[k]
                        ranges.setdefault(proto, []).append((lo, hi))
                    ps = portsets[key] = PortSet(ranges)
                for d in iter_bits(bits):
                    for src_name in members[s]:
                        for dst_name in members[d]:
                            if src_name != dst_name:
                                out[(src_name, dst_name)] = ps
        return out

    def ip_block_flows(self) -> dict[tuple[str, str], PortSet]:
        """Edges between workloads and the ipBlocks that policies name, keyed "cidr:<block>" on the outside end.

        An external source is never egress-isolated and an external destination never ingress-isolated, so without
        cluster policies a rule admitting a block is exactly "some address of the block (outside its excepts) may
        connect". Cluster policies can deny what a NetworkPolicy admits (and their Accept rules name `networks`
        too): then an edge keeps the ports on which some address of the block really may connect, found on one
        representative address per region that all the named CIDRs treat alike.
        """
        # (node, class, direction) -> ports the naming rules admit; node -> its membership test
        named_edges: dict[tuple[str, int, Direction], PortSet] = {}
        blocks: dict[str, Callable[[Address], bool]] = {}

        def add(node: str, c: int, direction: Direction, ports: PortSet) -> None:
            if ports:
                key = (node, c, direction)
                named_edges[key] = named_edges[key] | ports if key in named_edges else ports

        for cp in self.policies:
            for rule in cp.ingress + cp.egress:
                for peer in rule.peers or ():
                    block = peer.peer.ip_block
                    if block is None:
                        continue
                    node = f"cidr:{block}"
                    blocks[node] = block.contains
                    for c in iter_bits(cp.targets):
                        # Named ports resolve on the destination: the target for ingress, nothing outside.
                        named = self._class_named[c] if rule.direction is INGRESS else None
                        ports = PortSet.all() if rule.ports is None else PortSet()
                        for spec in rule.ports or ():
                            ports = ports | spec.resolve(named)
                        add(node, c, rule.direction, ports)
        if self.cluster_policies:
            for ccp in self.cluster_policies:
                for crule in ccp.egress:
                    if crule.action != ACCEPT:
                        continue
                    ports = PortSet.all() if crule.ports is None else PortSet()
                    for spec in crule.ports or ():
                        ports = ports | spec.resolve(None)
                    for net in crule.networks():
                        node = f"{BLOCK_PREFIX}{net}"
                        # mypy cannot infer a lambda's default-bound argument (n=net binds each network)
                        blocks[node] = lambda a, n=net: a.version == n.version and a in n  # type: ignore[misc]
                        for c in iter_bits(ccp.subjects):
                            add(node, c, Direction.EGRESS, ports)
            named_edges = self._really_allowed(named_edges, blocks)
        out: dict[tuple[str, str], PortSet] = {}
        for (node, c, direction), ports in named_edges.items():
            for i in self._class_members[c]:
                w = self.workloads[i]
                key = (node, w) if direction is INGRESS else (w, node)
                out[key] = out[key] | ports if key in out else ports
        return out

    def _really_allowed(self, edges: dict[tuple[str, int, Direction], PortSet],
                        blocks: Mapping[str, Callable[[Address], bool]]) -> dict[tuple[str, int, Direction], PortSet]:
        nets: set[Network] = set()
        for cp in self.policies:
            for rule in cp.ingress + cp.egress:
                for peer in rule.peers or ():
                    if peer.peer.ip_block is not None:
                        nets.add(peer.peer.ip_block.cidr)
                        nets.update(peer.peer.ip_block.excepts)
        for ccp in self.cluster_policies:
            for crule in ccp.egress:
                nets.update(crule.networks())
        reps = _representatives(nets)
        cache: dict[tuple[Address, int, Direction], PortSet] = {}
        out = {}
        for (node, c, direction), ports in edges.items():
            pod = ResolvedEndpoint(self.workloads[self._class_members[c][0]], self._ws[self._class_members[c][0]], c)
            actual = PortSet()
            for addr in reps:
                if not blocks[node](addr):
                    continue
                key = (addr, c, direction)
                got = cache.get(key)
                if got is None:
                    ext = ResolvedEndpoint(endpoint_name(addr), address=addr)
                    s, d = (ext, pod) if direction is Direction.INGRESS else (pod, ext)
                    got = cache[key] = (self._tiered_side_ports(Direction.EGRESS, s, d, d)
                                        & self._tiered_side_ports(Direction.INGRESS, d, s, d))
                actual = actual | got
            if ports & actual:
                out[(node, c, direction)] = ports & actual
        return out


def _representatives(nets: Iterable[Network]) -> list[Address]:
    """One address per region of the address space that every network in `nets` treats alike (inside or out).

    Networks nest or are disjoint, so the regions inside `n` are `n` minus the networks strictly inside it."""
    pool = set(nets)
    out: list[Address] = []
    for n in sorted(pool, key=lambda x: (x.version, x)):
        remaining = [n]
        for m in pool:
            # versions are compared first, which the per-version stubs of subnet_of cannot see
            if m == n or m.version != n.version or not m.subnet_of(n):  # type: ignore[arg-type]
                continue
            nxt: list[Network] = []
            for r in remaining:
                # r and m share n's version (filtered above), which the per-version stubs cannot see
                if r.subnet_of(m):  # type: ignore[arg-type]
                    continue
                if m.subnet_of(r):  # type: ignore[arg-type]
                    nxt.extend(r.address_exclude(m))  # type: ignore[arg-type]
                else:
                    nxt.append(r)
            remaining = nxt
        if remaining:
            out.append(remaining[0].network_address)
    return out
