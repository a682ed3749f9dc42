"""The two directions a rule governs, and the policy fields each one names.

Its own module, below `model` and `clusterpolicy`: both the NetworkPolicy and the cluster-policy model need it, and
`model` imports `clusterpolicy`.
"""

from __future__ import annotations

import enum


class Direction(enum.StrEnum):
    """Egress is judged at the source, ingress at the destination. A member's value is the name of its rule list in
    a policy's spec, and being a str it compares, hashes and formats as that name: text built from it reads as before,
    and code elsewhere that still compares with "ingress"/"egress" keeps its answers."""

    INGRESS = "ingress"
    EGRESS = "egress"

    @property
    def peer_field(self) -> str:
        """The field of a rule that lists its peers."""
        return "from" if self is INGRESS else "to"

    @property
    def policy_type(self) -> str:
        """The NetworkPolicy `spec.policyTypes` value that makes a policy govern this direction."""
        return "Ingress" if self is INGRESS else "Egress"


# The members as module globals, for code run per rule or per policy of a verdict: on Python 3.11 reading a member
# off its class goes through EnumType.__getattr__, several times the cost of a global load (3.12 dropped that hook).
INGRESS, EGRESS = Direction.INGRESS, Direction.EGRESS
