"""A tenant's namespace and the guard rails around it: quota, default container sizes, owners' access."""

from __future__ import annotations

from kube.labels import managed, namespace_labels
from stackconfig.models import DEFAULT_LIMITS, DEFAULT_REQUESTS, TenantConfig


def namespace(tenant: TenantConfig) -> dict:
    return {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": tenant.name, "labels": namespace_labels(tenant.name, tenant.pod_security)},
    }


def resource_quota(tenant: TenantConfig) -> dict:
    quota = tenant.quota
    load_balancers = sum(1 for app in tenant.apps if app.frontend.load_balancer)
    return {
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "tenant-quota", "namespace": tenant.name, "labels": managed()},
        "spec": {"hard": {
            "requests.cpu": quota.cpu, "limits.cpu": quota.cpu,
            "requests.memory": quota.memory, "limits.memory": quota.memory,
            "requests.storage": quota.storage,
            "pods": str(quota.pods),
            # Only the load balancers the config declares; a tenant cannot expose more on its own.
            "services.loadbalancers": str(load_balancers),
        }},
    }


def limit_range(tenant: TenantConfig) -> dict:
    """Containers a tenant creates by hand still get requests and limits, so the quota can account for them."""
    return {
        "apiVersion": "v1", "kind": "LimitRange",
        "metadata": {"name": "tenant-defaults", "namespace": tenant.name, "labels": managed()},
        "spec": {"limits": [{
            "type": "Container",
            "default": dict(DEFAULT_LIMITS),
            "defaultRequest": dict(DEFAULT_REQUESTS),
        }]},
    }


def owners_binding(tenant: TenantConfig) -> dict | None:
    if not tenant.owners:
        return None
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "tenant-owners-admin", "namespace": tenant.name, "labels": managed()},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": owner} for owner in tenant.owners],
    }
