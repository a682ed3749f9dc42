"""Pulumi ComponentResources: wiring only (parents, ordering, protection). Contents come from `specs/` and
`policies/`, which know nothing of Pulumi."""

from components.cluster_policies import ClusterPolicies
from components.platform import Platform
from components.tenant import Tenant
from components.three_tier_app import ThreeTierApp

__all__ = ["ClusterPolicies", "Platform", "Tenant", "ThreeTierApp"]
