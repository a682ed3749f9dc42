"""A tenant's three-tier app: frontend -> backend -> database, and exactly the flows its config declares."""

from __future__ import annotations

from typing import Mapping, Optional

import pulumi

from components.kubernetes import create
from components.tenant import Tenant
from specs.plan import app_objects
from stackconfig.models import App, ClusterConfig
from stackconfig.models import TenantConfig


class ThreeTierApp(pulumi.ComponentResource):
    def __init__(self, name: str, tenant: TenantConfig, app: App, cluster: ClusterConfig,
                 tenants: Mapping[str, Tenant], opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("tenancy:index:ThreeTierApp", name, None, opts)
        objects = app_objects(tenant, app, cluster)
        own = tenants[tenant.name]
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[own.namespace])
        own_policies = []
        for namespace, manifests in objects.policies.items():
            created = [create(m, pulumi.ResourceOptions(parent=self, depends_on=[tenants[namespace].namespace]))
                       for m in manifests]
            if namespace == tenant.name:
                own_policies = created
        # No pod of this app may start before its namespace is default-deny and its own flows are declared.
        isolated = [own.namespace, *own.policies, *own_policies]
        for deployment in objects.deployments:
            create(deployment, pulumi.ResourceOptions(parent=self, depends_on=isolated))
        # Data survives a mistaken delete in protected stacks: protect refuses it, retainOnDelete keeps the volume.
        claims = [create(claim, pulumi.ResourceOptions(parent=self, depends_on=[own.namespace], protect=cluster.protect,
                                                       retain_on_delete=cluster.protect))
                  for claim in objects.claims]
        create(objects.statefulset, pulumi.ResourceOptions(parent=self, depends_on=[*isolated, *claims]))
        for service in objects.services:
            create(service, in_namespace)
        self.register_outputs({"frontend": f"{app.name}-frontend.{tenant.name}.svc.cluster.local"})
