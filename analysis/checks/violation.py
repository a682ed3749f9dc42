"""One finding of `tenancy check` (and of the CrossGuard pack): a rule id, what it is about, and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Violation:
    """`str(v)` is the line `tenancy check` prints: `<rule> <subject>: <why>`.

    `subject` is an object (`NetworkPolicy acme/allow-all`, `Namespace acme`) or a flow (`globex/portal-backend ->
    acme/shop-backend`). Ordering is by rule, then subject, then why, so sorted output is stable.
    """

    rule: str
    subject: str
    why: str

    def __str__(self) -> str:
        return f"{self.rule} {self.subject}: {self.why}"
