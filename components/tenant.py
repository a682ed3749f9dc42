"""A tenant: its namespace, isolated by default (scenarios 1, 3, 5, 6), with quota, defaults and owners."""

from __future__ import annotations

from typing import Optional

import pulumi

from components.kubernetes import create
from policies import tenant_policies
from specs import tenant as tenant_specs
from stackconfig.models import Cluster
from stackconfig.models import Tenant as TenantConfig


class Tenant(pulumi.ComponentResource):
    namespace: pulumi.CustomResource
    policies: list[pulumi.CustomResource]

    def __init__(self, name: str, tenant: TenantConfig, cluster: Cluster,
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("tenancy:index:Tenant", name, None, opts)
        self.namespace = create(tenant_specs.namespace(tenant), pulumi.ResourceOptions(parent=self, protect=cluster.protect))
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        self.policies = [create(p, in_namespace) for p in tenant_policies(tenant, cluster)]
        create(tenant_specs.resource_quota(tenant), in_namespace)
        create(tenant_specs.limit_range(tenant), in_namespace)
        binding = tenant_specs.owners_binding(tenant)
        if binding:
            create(binding, in_namespace)
        self.register_outputs({"namespace": tenant.name})
