"""Which invariant rules the admin tier keeps when a tenant plants NetworkPolicies of its own (issue 13): shared by
test_tenant_proof.py (one plant on the dev render) and tests/property/test_tenant_plants.py (random plants on random
stacks), so both proofs hold `check` to the same account."""

# Invariants about flows that cross a namespace boundary: the admin tier keeps these whatever a tenant writes.
KEPT = ("cross-tenant-flow", "monitoring-metrics-only", "egress-via-proxy", "proxy-private-ranges", "dns-reachable")
# Flow invariants the plant still breaks, and only through external or same-namespace flows.
FLOW_GAPS = ("database-ingress", "frontend-external-ingress")
# Rules about the tenant's objects themselves: they judge what the tenant wrote, which the plant is.
TEXT_RULES = ("tenant-default-deny", "open-world-ingress")
