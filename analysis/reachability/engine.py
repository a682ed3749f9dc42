"""The reachability engine: workload classes, compiled policies, bitset matrices, verdicts with reasons.

Workloads with the same namespace, pod labels and container ports cannot be told apart by any NetworkPolicy, so
they share a *class*; every bitset is over classes (then external addresses, appended per call). For one
(port, protocol) the matrix is computed without any per-pair scan:

* ingress: each ingress rule contributes (sources it admits) x (targets whose ports match); contributions are
  grouped by identical source bitsets and transposed once, giving per source the destinations that admit it;
* egress: each egress rule contributes (destinations it admits, port-matched per destination for named ports)
  to every target; grouped by identical target bitsets;
* allowed[src] = egress[src] & (admitted[src] | destinations not isolated for ingress).

A workload's traffic to itself is not part of the matrix or of `flows`. External endpoints (`ip:<addr>`) are not
pods: nothing isolates them, and they only ever match ipBlock peers (pod-to-pod never matches an ipBlock, since
pod IPs are not in manifests).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from .compile import CompiledPolicy, CompiledRule, Compiler
from .ipblocks import Address, endpoint_name, parse_address
from .manifests import gc_paused
from .model import Cluster, Workload
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
from .verdict import Miss, RuleRef, Side, Verdict


class UnknownEndpoint(ValueError):
    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
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
class Endpoint:
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

    def json_rows(self) -> Iterator[tuple[str, str]]:
        """(src, its row as a JSON object) without building dicts: 3,000 workloads make 9M cells per port.

        Each row starts from a prepared all-false (or all-true, for dense rows) list of entries and only the
        exceptions are patched in, so the cost follows the allowed pairs rather than the cells.
        """
        names = self._names
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
        for i, src in enumerate(names):
            bits = self._rows[self._cls[src]] & mask
            if bits.bit_count() <= half:
                parts, patch, flip = false_parts.copy(), true_parts, bits
            else:
                parts, patch, flip = true_parts.copy(), false_parts, mask & ~bits
            for c in iter_bits(flip):
                for j in members[c]:
                    parts[j] = patch[j]
            del parts[i]
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


class Engine:
    def __init__(self, cluster: Cluster):
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
        for i, w in enumerate(self._ws):
            key = (w.namespace, frozenset(w.labels.items()), frozenset(w.ports))
            c = keys.get(key)
            if c is None:
                c = keys[key] = len(keys)
                self._class_ns.append(w.namespace)
                self._class_members.append([])
                pod_labels.append(w.labels)
                ns_labels.append(cluster.namespaces[w.namespace].labels)
                named.append(w.named_ports())
            self._class_of.append(c)
            self._class_members[c].append(i)
        self.n_classes = len(keys)
        self._class_named: list[NamedPorts] = named

        ns_bits: dict[str, int] = {}
        for c, ns in enumerate(self._class_ns):
            ns_bits[ns] = ns_bits.get(ns, 0) | (1 << c)
        # (port name, protocol) -> port number -> classes whose container port of that name is that number
        self._named_index: dict[tuple[str, str], dict[int, int]] = {}
        for c, np in enumerate(named):
            for key, nums in np.items():
                for n in nums:
                    slot = self._named_index.setdefault(key, {})
                    slot[n] = slot.get(n, 0) | (1 << c)

        compiler = Compiler(LabelIndex(pod_labels), LabelIndex(ns_labels), ns_bits)
        self.policies: list[CompiledPolicy] = [compiler.policy(p) for p in cluster.policies]
        self._by_ns: dict[str, list[CompiledPolicy]] = {}
        for cp in self.policies:
            self._by_ns.setdefault(cp.policy.namespace, []).append(cp)
        self._ingress = [cp for cp in self.policies if cp.policy.affects_ingress and cp.targets]
        self._egress = [cp for cp in self.policies if cp.policy.affects_egress and cp.targets]

    # ------------------------------------------------------------------------------------------------ endpoints

    def resolve(self, name: str) -> Endpoint:
        i = self._by_name.get(name)
        if i is not None:
            return Endpoint(name, self._ws[i], self._class_of[i])
        if name.startswith("ip:"):
            addr = parse_address(name)
            return Endpoint(endpoint_name(addr), address=addr)
        try:
            addr = parse_address(name)
        except ValueError:
            pass
        else:
            return Endpoint(endpoint_name(addr), address=addr)
        raise UnknownEndpoint(name, self.suggest(name))

    def suggest(self, name: str, n: int = 5) -> list[str]:
        close = difflib.get_close_matches(name, self.workloads, n=n, cutoff=0.5)
        tail = name.rsplit("/", 1)[-1]
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

    def _selecting(self, ep: Endpoint, direction: str) -> list[CompiledPolicy]:
        if ep.workload is None:
            return []
        return [
            cp
            for cp in self._by_ns.get(ep.workload.namespace, ())
            if cp.affects(direction) and cp.targets >> ep.cls & 1
        ]

    @staticmethod
    def _peer_match(rule: CompiledRule, other: Endpoint) -> int | None:
        """Index of the first peer admitting `other`, -1 if the rule admits every peer, None if none does."""
        if rule.peers is None:
            return -1
        if other.workload is None:
            for p in rule.peers:
                if p.admits_address(other.address):  # type: ignore[arg-type]
                    return p.index
            return None
        if not rule.classes >> other.cls & 1:
            return None
        for p in rule.peers:
            if p.classes >> other.cls & 1:
                return p.index
        return None

    def _named(self, ep: Endpoint) -> NamedPorts | None:
        return None if ep.workload is None else self._class_named[ep.cls]

    def _side(self, direction: str, judged: Endpoint, other: Endpoint, dst: Endpoint, port: int, proto: str) -> Side:
        if judged.workload is None:
            return Side(direction, judged.name, isolated=False, external=True)
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
                        "" if peer < 0 else str(rule.peers[peer].peer),  # type: ignore[index]
                        "" if pi < 0 else self._port_text(rule.ports[pi], port),  # type: ignore[index]
                    )
                )
        if side.admitting:
            side.admitted_by = side.admitting[0]
        elif selecting:
            side.misses = self._misses(selecting, direction, other, dst, port, proto)
        return side

    @staticmethod
    def _port_text(spec, port: int) -> str:
        return f"{spec} (= {port} on the destination)" if spec.is_named else str(spec)

    def verdict(self, src: str, dst: str, port: int, protocol: str = "TCP") -> Verdict:
        protocol = protocol.upper()
        s, d = self.resolve(src), self.resolve(dst)
        return Verdict(
            s.name, d.name, port, protocol,
            egress=self._side("egress", s, d, d, port, protocol),
            ingress=self._side("ingress", d, s, d, port, protocol),
        )

    # -------------------------------------------------------------------------------------------- closest misses

    # A peer of the wrong kind (pod vs address) is farther from matching than any number of label differences.
    KIND_MISMATCH = 10

    def _peer_reasons(self, cp: CompiledPolicy, rule: CompiledRule, idx: int, other: Endpoint) -> tuple[int, list[str]]:
        peer = rule.peers[idx].peer  # type: ignore[index]
        if other.workload is None:
            if peer.ip_block is None:
                return self.KIND_MISMATCH, [f"{other.name} is an external address; only ipBlock peers admit those"]
            block = peer.ip_block
            hole = block.excluded_by(other.address)  # type: ignore[arg-type]
            if hole is not None:
                return 1, [f"{other.name} falls in the except range {hole}"]
            if other.address.version != block.cidr.version:  # type: ignore[union-attr]
                return 1, [f"{other.name} is IPv{other.address.version}, {block.cidr} is "  # type: ignore[union-attr]
                           f"IPv{block.cidr.version}"]
            return 1, [f"{other.name} is outside {block.cidr}"]
        w = other.workload
        if peer.ip_block is not None:
            return self.KIND_MISMATCH, [f"{other.name} is a pod; ipBlock peers only match addresses outside the cluster"]
        reasons = []
        if peer.namespace_selector is None:
            if w.namespace != cp.policy.namespace:
                reasons.append(f"{other.name} is in namespace {w.namespace}, not {cp.policy.namespace}")
        else:
            ns_labels = self.cluster.namespaces[w.namespace].labels
            reasons += [f"namespace {w.namespace} {r.describe_miss(ns_labels)}"
                        for r in peer.namespace_selector.misses(ns_labels)]
        if peer.pod_selector is not None:
            reasons += [f"{other.name} {r.describe_miss(w.labels)}" for r in peer.pod_selector.misses(w.labels)]
        return len(reasons), reasons

    @staticmethod
    def _port_reason(rule: CompiledRule, port: int, proto: str, dst: Endpoint, named: NamedPorts | None) -> str:
        parts = []
        for spec in rule.ports or ():
            if spec.is_named:
                nums = sorted((named or {}).get((spec.port, spec.protocol), ()))  # type: ignore[arg-type]
                where = ", ".join(map(str, nums)) if nums else f"nothing on {dst.name}"
                parts.append(f"{spec} (= {where})")
            else:
                parts.append(str(spec))
        return f"{port}/{proto} is not among its ports {', '.join(parts)}"

    def _misses(self, selecting: list[CompiledPolicy], direction: str, other: Endpoint, dst: Endpoint,
                port: int, proto: str) -> list[Miss]:
        named = self._named(dst)
        scored: list[tuple[int, Miss]] = []
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
                score, reasons, p = best  # type: ignore[misc]
                scored.append((score + len(port_reasons), Miss(cp.ref, direction, rule.index, p.index,
                                                  f"{p.peer} on {ports_text}", tuple(reasons))))
        scored.sort(key=lambda t: (t[0], t[1].policy, t[1].rule if t[1].rule is not None else -1))
        return [m for _, m in scored]

    # ------------------------------------------------------------------------------------------------ port sets

    def _side_ports(self, direction: str, judged: Endpoint, other: Endpoint, dst: Endpoint) -> PortSet:
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

    def allowed_ports(self, src: str, dst: str) -> PortSet:
        """Every (protocol, port) on which src may open a connection to dst."""
        s, d = self.resolve(src), self.resolve(dst)
        return self._side_ports("egress", s, d, d) & self._side_ports("ingress", d, s, d)

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
        return [egress[s] & (admitted[s] | open_in) for s in range(N)]

    def _positions(self, ext: Sequence[Address]) -> tuple[list[str], dict[str, int]]:
        names = self.workloads + [endpoint_name(a) for a in ext]
        pos = {n: self._class_of[i] for i, n in enumerate(self.workloads)}
        for j, a in enumerate(ext):
            pos[endpoint_name(a)] = self.n_classes + j
        return names, pos

    def matrix(self, ports: Iterable[tuple[int, str] | str], externals: Iterable[str] = ()) -> dict[tuple[int, str], MatrixView]:
        """(port, protocol) -> src -> dst -> allowed, over every workload and external address (self excluded)."""
        ext = self._externals(externals)
        names, pos = self._positions(ext)
        cache: dict[int, int] = {}
        return {
            (port, proto): MatrixView(names, pos, self._rows(port, proto, ext, cache))
            for port, proto in _normalise_ports(ports)
        }

    def _intervals(self) -> list[tuple[str, int, int]]:
        """Port ranges within which every rule's answer is constant: the matrix is computed once per range."""
        cuts: dict[str, set[int]] = {p: {MIN_PORT, MAX_PORT + 1} for p in PROTOCOLS}
        for cp in self.policies:
            for rule in cp.ingress + cp.egress:
                for spec in rule.ports or ():
                    rng = spec.numeric_range()
                    if rng is not None:
                        cuts[spec.protocol].update((rng[0], rng[1] + 1))
                    else:
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

        An external source is never egress-isolated and an external destination never ingress-isolated, so a
        rule admitting a block is exactly "some address of the block (outside its excepts) may connect".
        """
        out: dict[tuple[str, str], PortSet] = {}
        for cp in self.policies:
            for rule in cp.ingress + cp.egress:
                for peer in rule.peers or ():
                    block = peer.peer.ip_block
                    if block is None:
                        continue
                    node = f"cidr:{block}"
                    for c in iter_bits(cp.targets):
                        # Named ports resolve on the destination: the target for ingress, nothing outside.
                        named = self._class_named[c] if rule.direction == "ingress" else None
                        ports = PortSet.all() if rule.ports is None else PortSet()
                        for spec in rule.ports or ():
                            ports = ports | spec.resolve(named)
                        if not ports:
                            continue
                        for i in self._class_members[c]:
                            w = self.workloads[i]
                            key = (node, w) if rule.direction == "ingress" else (w, node)
                            out[key] = out[key] | ports if key in out else ports
        return out
