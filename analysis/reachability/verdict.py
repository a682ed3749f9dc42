"""Verdict data: for one connection, each side's isolation, selecting policies, deciding rule or closest misses."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RuleRef:
    """The rule that admits a flow: policy, direction, rule index, peer index and port index.

    `peer` is None when the rule has no from/to (every peer); `port` is None when it has no ports (every port).
    """

    policy: str  # "namespace/name"
    direction: str  # "ingress" | "egress"
    rule: int
    peer: int | None
    port: int | None
    peer_text: str = ""
    port_text: str = ""

    def __str__(self) -> str:
        field_name = "from" if self.direction == "ingress" else "to"
        peer = f"{field_name}[{self.peer}] {self.peer_text}" if self.peer is not None else f"any peer (no '{field_name}')"
        port = f"ports[{self.port}] {self.port_text}" if self.port is not None else "any port (no 'ports')"
        return f"policy {self.policy} {self.direction} rule {self.rule}: {peer}; {port}"


@dataclass(frozen=True)
class Miss:
    """A rule of a selecting policy that does not admit the flow, with the reasons it fails (fewest first)."""

    policy: str
    direction: str
    rule: int | None  # None: the policy has no rules in this direction (it only isolates)
    peer: int | None
    admits: str  # what the rule admits, in words
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        if self.rule is None:
            return f"policy {self.policy} has no {self.direction} rules, so it admits nothing"
        return f"policy {self.policy} {self.direction} rule {self.rule} admits {self.admits}; " + "; ".join(self.reasons)


@dataclass
class Side:
    direction: str  # "egress" (judged at the source) | "ingress" (judged at the destination)
    endpoint: str  # the endpoint whose policies judge this side
    isolated: bool
    selecting_policies: list[str] = field(default_factory=list)
    admitted_by: RuleRef | None = None  # first admitting rule, None when none (or the side is not isolated)
    admitting: list[RuleRef] = field(default_factory=list)  # every admitting rule (union of policies)
    misses: list[Miss] = field(default_factory=list)  # when denied: closest misses first
    external: bool = False  # the endpoint is an external address: NetworkPolicy does not govern it

    @property
    def allowed(self) -> bool:
        return not self.isolated or self.admitted_by is not None


@dataclass
class Verdict:
    src: str
    dst: str
    port: int
    protocol: str
    egress: Side
    ingress: Side

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed

    @property
    def closest_miss(self) -> Miss | None:
        for side in (self.egress, self.ingress):
            if not side.allowed and side.misses:
                return side.misses[0]
        return None
