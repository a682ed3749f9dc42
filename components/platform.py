"""Shared platform services: the egress proxy (scenario 4). Monitoring and DNS are existing cluster services the
program only refers to, by namespace and pod labels."""

from __future__ import annotations

from typing import Optional

import pulumi

from components.kubernetes import create
from policies import platform_policies
from specs.workloads import proxy_deployment, proxy_namespace, proxy_service
from stackconfig.models import Cluster


class Platform(pulumi.ComponentResource):
    def __init__(self, name: str, cluster: Cluster, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("tenancy:index:Platform", name, None, opts)
        proxy = cluster.egress_proxy
        self.proxy_namespace: Optional[pulumi.Output[str]] = None
        self.proxy_address: Optional[str] = None
        if proxy.enabled:
            namespace = create(proxy_namespace(cluster), pulumi.ResourceOptions(parent=self, protect=cluster.protect))
            policies = [
                create(p, pulumi.ResourceOptions(parent=self, depends_on=[namespace]))
                for p in platform_policies(cluster)
            ]
            # The proxy runs only once its own isolation is in place.
            create(proxy_deployment(cluster), pulumi.ResourceOptions(parent=self, depends_on=[namespace, *policies]))
            create(proxy_service(cluster), pulumi.ResourceOptions(parent=self, depends_on=[namespace]))
            self.proxy_namespace = namespace.metadata.apply(lambda m: m["name"])
            self.proxy_address = f"http://egress-proxy.{proxy.namespace}.svc.cluster.local:{proxy.port}"
        self.register_outputs({"proxyNamespace": self.proxy_namespace, "proxyAddress": self.proxy_address})
