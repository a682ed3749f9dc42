"""A tenant's three-tier app: frontend -> backend -> database, and exactly the flows its config declares."""

from __future__ import annotations

from typing import Mapping, Optional

import pulumi

from components.kubernetes import create
from components.tenant import Tenant
from policies import app_policies
from specs import workloads
from stackconfig.models import App, Cluster
from stackconfig.models import Tenant as TenantConfig


class ThreeTierApp(pulumi.ComponentResource):
    def __init__(self, name: str, tenant: TenantConfig, app: App, cluster: Cluster,
                 tenants: Mapping[str, Tenant], opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("tenancy:index:ThreeTierApp", name, None, opts)
        own = tenants[tenant.name]
        own_policies = []
        for namespace, manifests in app_policies(tenant, app, cluster).items():
            target = tenants[namespace]
            created = [create(m, pulumi.ResourceOptions(parent=self, depends_on=[target.namespace])) for m in manifests]
            if namespace == tenant.name:
                own_policies = created
        # No pod of this app may start before its namespace is default-deny and its own flows are declared.
        guarded = pulumi.ResourceOptions(parent=self, depends_on=[own.namespace, *own.policies, *own_policies])
        for tier in ("frontend", "backend"):
            create(workloads.deployment(tenant, app, tier), guarded)
            create(workloads.service(tenant, app, tier), pulumi.ResourceOptions(parent=self, depends_on=[own.namespace]))
        claims = [
            create(claim, pulumi.ResourceOptions(
                parent=self, depends_on=[own.namespace], protect=cluster.protect, retain_on_delete=cluster.protect))
            for claim in workloads.database_claims(tenant, app)
        ]
        create(workloads.statefulset(tenant, app), pulumi.ResourceOptions.merge(guarded, pulumi.ResourceOptions(depends_on=claims)))
        create(workloads.service(tenant, app, "database"), pulumi.ResourceOptions(parent=self, depends_on=[own.namespace]))
        self.register_outputs({"frontend": f"{app.name}-frontend.{tenant.name}.svc.cluster.local"})
