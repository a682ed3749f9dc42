"""Shared platform services: the egress proxy (scenario 4). Monitoring and DNS are existing cluster services the
program only refers to, by namespace and pod labels."""

from __future__ import annotations

from typing import Optional, Sequence

import pulumi

from components.kubernetes import create
from specs.plan import platform_objects
from stackconfig.models import ClusterConfig, TenantConfig


class Platform(pulumi.ComponentResource):
    def __init__(self, name: str, cluster: ClusterConfig, tenants: Sequence[TenantConfig] = (),
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("tenancy:index:Platform", name, None, opts)
        # The proxy admits exactly the tenants' backends declared with internet egress.
        objects = platform_objects(cluster, tenants)
        self.proxy_address: Optional[str] = None
        if objects.namespace:
            namespace = create(objects.namespace, pulumi.ResourceOptions(parent=self, protect=cluster.protect))
            in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
            policies = [create(p, in_namespace) for p in objects.policies]
            # The proxy runs only once its own isolation is in place.
            for workload in objects.workloads:
                create(workload, pulumi.ResourceOptions(parent=self, depends_on=[namespace, *policies]))
            for service in objects.services:
                create(service, in_namespace)
            proxy = cluster.egress_proxy
            self.proxy_address = f"http://egress-proxy.{proxy.namespace}.svc.cluster.local:{proxy.port}"
        self.register_outputs({"proxyAddress": self.proxy_address})
