"""What each component creates, as plain manifests: the one composition both the Pulumi components (which add
parents, ordering and protection) and pure analyses (property tests, `check --stack`) use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from policies import admission_policies, app_policies, cluster_policies, platform_policies, tenant_policies
from specs import tenant as tenant_specs
from specs import workloads
from stackconfig.models import App, ClusterConfig, StackConfig, TenantConfig


@dataclass(frozen=True)
class PlatformObjects:
    namespace: dict | None
    policies: list[dict] = field(default_factory=list)
    workloads: list[dict] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)

    def all(self) -> list[dict]:
        return [*([self.namespace] if self.namespace else []), *self.policies, *self.workloads, *self.services]


@dataclass(frozen=True)
class TenantObjects:
    namespace: dict
    policies: list[dict]
    guard_rails: list[dict]  # quota, limit range, owners' binding

    def all(self) -> list[dict]:
        return [self.namespace, *self.policies, *self.guard_rails]


@dataclass(frozen=True)
class AppObjects:
    policies: dict[str, list[dict]]  # by the namespace they live in (consumers' egress halves live elsewhere)
    claims: list[dict]
    deployments: list[dict]
    statefulset: dict
    services: list[dict]

    def all(self) -> list[dict]:
        return [*(p for ps in self.policies.values() for p in ps), *self.claims, *self.deployments,
                self.statefulset, *self.services]


def platform_objects(cluster: ClusterConfig, tenants: Sequence[TenantConfig] = ()) -> PlatformObjects:
    """The proxy and its policies; `tenants` decide which backends it admits (none without them)."""
    if not cluster.egress_proxy.enabled:
        return PlatformObjects(None)
    return PlatformObjects(
        namespace=workloads.proxy_namespace(cluster),
        policies=platform_policies(cluster, tenants),
        workloads=[workloads.proxy_deployment(cluster)],
        services=[workloads.proxy_service(cluster)],
    )


def tenant_objects(tenant: TenantConfig, cluster: ClusterConfig) -> TenantObjects:
    binding = tenant_specs.owners_binding(tenant)
    return TenantObjects(
        namespace=tenant_specs.namespace(tenant),
        policies=tenant_policies(tenant, cluster),
        guard_rails=[tenant_specs.resource_quota(tenant), tenant_specs.limit_range(tenant), *([binding] if binding else [])],
    )


def app_objects(tenant: TenantConfig, app: App, cluster: ClusterConfig) -> AppObjects:
    return AppObjects(
        policies=app_policies(tenant, app, cluster),
        claims=workloads.database_claims(tenant, app),
        deployments=[workloads.deployment(tenant, app, tier) for tier in ("frontend", "backend")],
        statefulset=workloads.statefulset(tenant, app),
        services=[workloads.service(tenant, app, tier) for tier in ("frontend", "backend", "database")],
    )


def cluster_policy_objects(config: StackConfig) -> list[dict]:
    """The admin- and baseline-tier cluster policies and the admission policy for tenants' NetworkPolicies that
    completes them (none with `adminPolicies: none`)."""
    return [*cluster_policies(config), *admission_policies(config)]


def stack_objects(config: StackConfig) -> list[dict]:
    """Every Kubernetes object the program creates for `config`, without Pulumi."""
    objects = [*platform_objects(config.cluster, config.tenants).all(), *cluster_policy_objects(config)]
    for tenant in config.tenants:
        objects += tenant_objects(tenant, config.cluster).all()
    for tenant in config.tenants:
        for app in tenant.apps:
            objects += app_objects(tenant, app, config.cluster).all()
    return objects
