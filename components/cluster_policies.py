"""Platform-owned cluster policies (issue 13): admin- and baseline-tier isolation no tenant can override."""

from __future__ import annotations

import pulumi

from components.kubernetes import create
from specs.plan import cluster_policy_objects
from stackconfig.models import StackConfig


class ClusterPolicies(pulumi.ComponentResource):
    """Cluster-scoped, so a tenant's `admin` binding in its namespace cannot edit or delete them. Contents come
    from `policies/` through `specs.plan`; nothing here decides what they say."""

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tenancy:index:ClusterPolicies", name, None, opts)
        objects = cluster_policy_objects(config)
        for manifest in objects:
            create(manifest, pulumi.ResourceOptions(parent=self))
        self.register_outputs({"policies": [m["metadata"]["name"] for m in objects]})
