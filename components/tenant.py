"""A tenant: its namespace, isolated by default (scenarios 1, 3, 5, 6), with quota, defaults and owners."""

from __future__ import annotations

from typing import Optional

import pulumi

from components.kubernetes import create
from specs.plan import tenant_objects
from stackconfig.models import ClusterConfig
from stackconfig.models import TenantConfig


class Tenant(pulumi.ComponentResource):
    namespace: pulumi.CustomResource
    policies: list[pulumi.CustomResource]

    def __init__(self, name: str, tenant: TenantConfig, cluster: ClusterConfig,
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("tenancy:index:Tenant", name, None, opts)
        objects = tenant_objects(tenant, cluster)
        self.namespace = create(objects.namespace, pulumi.ResourceOptions(parent=self, protect=cluster.protect))
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        self.policies = [create(p, in_namespace) for p in objects.policies]
        for manifest in objects.guard_rails:
            create(manifest, in_namespace)
        self.register_outputs({"namespace": tenant.name})
