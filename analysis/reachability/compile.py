"""Policies compiled into targets -> rules -> peer matchers -> port matchers, all over workload-class bitsets.

A compiled policy knows the bitset of classes it selects; each compiled rule knows, per peer, the bitset of classes
that peer admits (namespace part AND pod part, evaluated once through the label indexes), its ipBlocks for external
addresses, and its port specs. The matrix aggregates these bitsets; a verdict walks the same objects for one pair,
which is what makes every verdict carry the rule that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .clusterpolicy import ACCEPT, ClusterPeer, ClusterPolicy, ClusterRule, covers
from .direction import EGRESS, INGRESS, Direction
from .ipblocks import Address, IPBlock, Network
from .model import Peer, Policy, Rule
from .ports import PortSpec
from .selectors import LabelIndex


@dataclass
class CompiledPeer:
    index: int
    peer: Peer
    classes: int  # bitset of workload classes admitted (always 0 for an ipBlock peer)

    def admits_address(self, addr: Address) -> bool:
        return self.peer.ip_block is not None and self.peer.ip_block.contains(addr)


@dataclass
class CompiledRule:
    direction: Direction
    index: int
    rule: Rule
    peers: tuple[CompiledPeer, ...] | None  # None: the rule has no from/to and admits every peer
    classes: int  # union of the peers' class bitsets
    ip_blocks: tuple[IPBlock, ...]

    @property
    def ports(self) -> tuple[PortSpec, ...] | None:
        return self.rule.ports

    def external_bits(self, externals: Sequence[Address], offset: int) -> int:
        """Bitset (positions offset+j) of the external addresses this rule's peers admit."""
        bits = 0
        for j, addr in enumerate(externals):
            if self.peers is None or any(b.contains(addr) for b in self.ip_blocks):
                bits |= 1 << (offset + j)
        return bits


@dataclass
class CompiledPolicy:
    policy: Policy
    targets: int  # bitset of workload classes selected by spec.podSelector in the policy's namespace
    ingress: tuple[CompiledRule, ...]  # empty when the policy does not affect ingress
    egress: tuple[CompiledRule, ...]

    @property
    def ref(self) -> str:
        return self.policy.ref

    def rules(self, direction: Direction) -> tuple[CompiledRule, ...]:
        return self.ingress if direction is INGRESS else self.egress

    def affects(self, direction: Direction) -> bool:
        return self.policy.affects_ingress if direction is INGRESS else self.policy.affects_egress


class Compiler:
    """Evaluates selectors against workload classes through label indexes, memoising shared selectors."""

    def __init__(self, pod_index: LabelIndex, ns_index: LabelIndex, ns_bits: dict[str, int],
                 host_network: dict[int, tuple[Address, ...]] | None = None):
        self.pod_index = pod_index
        self.ns_index = ns_index
        self.ns_bits = ns_bits
        self.all = pod_index.all
        # hostNetwork classes -> their node addresses: no policy selects them, no pod or namespace selector
        # matches them, an ipBlock holding one of their addresses does.
        self.host_network = host_network or {}
        self.host_bits = 0
        for c in self.host_network:
            self.host_bits |= 1 << c

    def peer_classes(self, peer: Peer, policy_ns: str) -> int:
        if peer.ip_block is not None:
            bits = 0
            for c, addresses in self.host_network.items():
                if any(peer.ip_block.contains(a) for a in addresses):
                    bits |= 1 << c
            return bits
        if peer.namespace_selector is None:
            ns = self.ns_bits.get(policy_ns, 0)
        else:
            ns = self.ns_index.select(peer.namespace_selector)
        if not ns or peer.pod_selector is None:
            return ns & ~self.host_bits
        return ns & self.pod_index.select(peer.pod_selector) & ~self.host_bits

    def rule(self, rule: Rule, direction: Direction, index: int, policy_ns: str) -> CompiledRule:
        if rule.peers is None:
            return CompiledRule(direction, index, rule, None, self.all, ())
        peers = tuple(CompiledPeer(i, p, self.peer_classes(p, policy_ns)) for i, p in enumerate(rule.peers))
        classes = 0
        for p in peers:
            classes |= p.classes
        blocks = tuple(p.ip_block for p in rule.peers if p.ip_block is not None)
        return CompiledRule(direction, index, rule, peers, classes, blocks)

    def policy(self, policy: Policy) -> CompiledPolicy:
        targets = self.ns_bits.get(policy.namespace, 0) & ~self.host_bits
        if targets:
            targets &= self.pod_index.select(policy.pod_selector)
        ingress: tuple[CompiledRule, ...] = ()
        egress: tuple[CompiledRule, ...] = ()
        if policy.affects_ingress:
            ingress = tuple(self.rule(r, INGRESS, i, policy.namespace) for i, r in enumerate(policy.ingress))
        if policy.affects_egress:
            egress = tuple(self.rule(r, EGRESS, i, policy.namespace) for i, r in enumerate(policy.egress))
        return CompiledPolicy(policy, targets, ingress, egress)


@dataclass
class CompiledClusterPeer:
    index: int
    peer: ClusterPeer
    classes: int  # workload classes this peer matches (networks: all of them when they cover the pod network)


@dataclass
class CompiledClusterRule:
    direction: Direction
    index: int
    rule: ClusterRule
    peers: tuple[CompiledClusterPeer, ...]
    classes: int  # union of the peers' classes; every class when the rule fails closed
    every_peer: bool  # a Deny/Pass rule with a peer it cannot read: the API says it then matches everything
    has_networks: bool = False  # only networks peers match external addresses

    @property
    def ports(self) -> tuple[PortSpec, ...] | None:
        return self.rule.ports

    @property
    def action(self) -> str:
        return self.rule.action

    def external_bits(self, externals: Sequence[Address], offset: int) -> int:
        bits = 0
        for j, addr in enumerate(externals):
            if self.every_peer or any(p.peer.admits_address(addr) for p in self.peers):
                bits |= 1 << (offset + j)
        return bits

    def networks(self) -> tuple[Network, ...]:
        return tuple(n for p in self.peers for n in p.peer.networks)


@dataclass
class CompiledClusterPolicy:
    policy: ClusterPolicy
    subjects: int  # workload classes the subject selects
    ingress: tuple[CompiledClusterRule, ...]
    egress: tuple[CompiledClusterRule, ...]

    @property
    def ref(self) -> str:
        return self.policy.ref

    def rules(self, direction: Direction) -> tuple[CompiledClusterRule, ...]:
        return self.ingress if direction is INGRESS else self.egress


def compile_cluster_policy(compiler: Compiler, policy: ClusterPolicy, pod_networks: tuple[Network, ...],
                           notes: list[str]) -> CompiledClusterPolicy:
    """Subject and peers as class bitsets; what cannot be modelled is appended to `notes`, one sentence each."""
    # Host-networked pods are neither subjects nor pod/namespace peers of cluster policies either.
    subjects = compiler.ns_index.select(policy.subject_namespaces) & ~compiler.host_bits
    if subjects and policy.subject_pods is not None:
        subjects &= compiler.pod_index.select(policy.subject_pods)

    def rule(r: ClusterRule, direction: Direction, index: int) -> CompiledClusterRule:
        where = f"{policy.ref} {direction} rule {index}" + (f" {r.name!r}" if r.name else "")
        field_name = direction.peer_field
        peers = []
        every = False
        for i, peer in enumerate(r.peers):
            classes = 0
            if peer.kind == "namespaces":
                classes = compiler.ns_index.select(peer.namespace_selector) & ~compiler.host_bits  # type: ignore[arg-type]  # set for this kind
            elif peer.kind == "pods":
                classes = compiler.ns_index.select(peer.namespace_selector) & ~compiler.host_bits  # type: ignore[arg-type]  # set for this kind
                if classes:
                    classes &= compiler.pod_index.select(peer.pod_selector)  # type: ignore[arg-type]  # set for pods
            elif peer.kind == "networks":
                cover = covers(peer.networks, pod_networks)
                for c, addresses in compiler.host_network.items():  # a node address inside the networks
                    if any(a in n for a in addresses for n in peer.networks if a.version == n.version):
                        classes |= 1 << c
                if cover:
                    classes = compiler.all & ~compiler.host_bits | classes
                elif cover is None:
                    notes.append(f"{where} {field_name}[{i}]: networks {', '.join(map(str, peer.networks))} cover "
                                 f"part of the pod network ({', '.join(map(str, pod_networks))}); pod IPs are not "
                                 "in manifests, so pods are treated as outside them")
            elif peer.kind in ("nodes", "domainNames"):
                notes.append(f"{where} {field_name}[{i}]: {peer.kind} peers are not modelled (node addresses and DNS "
                             "answers are not in manifests); it matches no pod and no external address here")
            else:
                if r.action != ACCEPT:
                    every = True
                notes.append(f"{where} {field_name}[{i}]: a peer with no field this engine knows; failed closed as "
                             f"the API asks ({'matches nothing' if r.action == ACCEPT else 'matches everything'})")
            peers.append(CompiledClusterPeer(i, peer, classes))
        union = compiler.all if every else 0
        for p in peers:
            union |= p.classes
        return CompiledClusterRule(direction, index, r, tuple(peers), union, every,
                                   any(p.kind == "networks" for p in r.peers))

    return CompiledClusterPolicy(
        policy, subjects,
        tuple(rule(r, INGRESS, i) for i, r in enumerate(policy.ingress)),
        tuple(rule(r, EGRESS, i) for i, r in enumerate(policy.egress)),
    )
