"""Pure builders of NetworkPolicy manifests, one module per pattern; no Pulumi import.

Every builder returns a complete `networking.k8s.io/v1` NetworkPolicy (or, for the admin and baseline tiers, a
`policy.networking.k8s.io` cluster policy: `cluster_policy.py`) as a dict, so the Pulumi components, the
offline render and the tests all see the very same object. Each docstring names the seed scenario it answers.
"""

from policies.compose import admission_policies, app_policies, cluster_policies, platform_policies, tenant_policies

__all__ = ["admission_policies", "app_policies", "cluster_policies", "platform_policies", "tenant_policies"]
