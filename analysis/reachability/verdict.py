"""Verdict data: for one connection, each side's isolation, selecting policies, deciding rule or closest misses."""

from __future__ import annotations

from dataclasses import dataclass, field

from .direction import Direction


@dataclass(frozen=True)
class RuleRef:
    """The rule that admits a flow: policy, direction, rule index, peer index and port index.

    `peer` is None when the rule has no from/to (every peer); `port` is None when it has no ports (every port).
    """

    policy: str  # "namespace/name"
    direction: Direction
    rule: int
    peer: int | None
    port: int | None
    peer_text: str = ""
    port_text: str = ""

    def __str__(self) -> str:
        field_name = self.direction.peer_field
        peer = f"{field_name}[{self.peer}] {self.peer_text}" if self.peer is not None else f"any peer (no '{field_name}')"
        port = f"ports[{self.port}] {self.port_text}" if self.port is not None else "any port (no 'ports')"
        return f"policy {self.policy} {self.direction} rule {self.rule}: {peer}; {port}"


@dataclass(frozen=True)
class ClusterRuleRef:
    """The first rule of a cluster-policy tier (Admin or Baseline) that matches a flow, and what it does."""

    policy: str  # "<Kind>/<name>"
    tier: str  # "Admin" | "Baseline"
    priority: int | None  # None: BaselineAdminNetworkPolicy (no priority)
    direction: Direction
    rule: int
    name: str  # the rule's `name`, "" when it has none
    action: str  # "Accept" | "Deny" | "Pass"
    peer: int | None  # None: the rule failed closed (a peer it cannot read matches everything)
    port: int | None  # index in the rule's protocols/ports; None when it has none (every port)
    peer_text: str = ""
    port_text: str = ""

    @property
    def final(self) -> bool:
        return self.action != "Pass"

    def __str__(self) -> str:
        field_name = self.direction.peer_field
        prio = f", priority {self.priority}" if self.priority is not None else ""
        named = f" {self.name!r}" if self.name else ""
        peer = f"{field_name}[{self.peer}] {self.peer_text}" if self.peer is not None else "every peer (failed closed)"
        port = f"port[{self.port}] {self.port_text}" if self.port is not None else "any port"
        return (f"{self.policy} ({self.tier} tier{prio}) {self.direction} rule {self.rule}{named}: "
                f"{self.action} {peer}; {port}")


@dataclass(frozen=True)
class Miss:
    """A rule of a selecting policy that does not admit the flow, with the reasons it fails (fewest first)."""

    policy: str
    direction: Direction
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
    direction: Direction
    endpoint: str  # the endpoint whose policies judge this side
    isolated: bool
    selecting_policies: list[str] = field(default_factory=list)
    admitted_by: RuleRef | None = None  # first admitting rule, None when none (or the side is not isolated)
    admitting: list[RuleRef] = field(default_factory=list)  # every admitting rule (union of policies)
    misses: list[Miss] = field(default_factory=list)  # when denied: closest misses first
    external: bool = False  # the endpoint is an external address: NetworkPolicy does not govern it
    host_network: bool = False  # the endpoint is a hostNetwork pod: NetworkPolicy does not apply to it
    # Cluster-policy tiers (AdminNetworkPolicy/BaselineAdminNetworkPolicy/ClusterNetworkPolicy), in the API's order:
    # the Admin tier decides first (Accept/Deny are final, Pass hands over), then NetworkPolicy for an isolated
    # endpoint, then the Baseline tier, then the default (allow).
    admin_policies: list[str] = field(default_factory=list)  # Admin-tier policies selecting the endpoint, in order
    admin_rule: ClusterRuleRef | None = None  # first matching Admin-tier rule
    baseline_policies: list[str] = field(default_factory=list)
    baseline_rule: ClusterRuleRef | None = None  # first matching Baseline-tier rule
    ties: list[str] = field(default_factory=list)  # equal-priority policies that disagree about this flow

    @property
    def decided_by(self) -> str:
        """Which tier decides this side: "admin", "networkpolicy", "baseline" or "default"."""
        if self.admin_rule is not None and self.admin_rule.final:
            return "admin"
        if self.isolated:
            return "networkpolicy"
        if self.baseline_rule is not None and self.baseline_rule.final:
            return "baseline"
        return "default"

    @property
    def allowed(self) -> bool:
        tier = self.decided_by
        if tier == "admin":
            return self.admin_rule.action == "Accept"  # type: ignore[union-attr]  # "admin" only with an admin_rule
        if tier == "networkpolicy":
            return self.admitted_by is not None
        if tier == "baseline":
            return self.baseline_rule.action == "Accept"  # type: ignore[union-attr]  # "baseline" only with one
        return True


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
            if not side.allowed and side.decided_by == "networkpolicy" and side.misses:
                return side.misses[0]
        return None
