"""Naming and label conventions (docs/design.md "Label contract"); tooling relies on them, keep them stable."""

from __future__ import annotations

NAMESPACE_NAME = "kubernetes.io/metadata.name"  # set by the API server on every namespace
TENANT = "tenancy/tenant"
INTERNET_EGRESS = "tenancy/internet-egress"
NAME = "app.kubernetes.io/name"
PART_OF = "app.kubernetes.io/part-of"
COMPONENT = "app.kubernetes.io/component"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "tenancy"
POLICY_PATTERN = "tenancy/policy-pattern"

PLATFORM = "tenancy-platform"
PROXY_NAME = "egress-proxy"
METRICS_PORT_NAME = "metrics"


def workload_name(app: str, tier: str) -> str:
    return f"{app}-{tier}"


def managed() -> dict[str, str]:
    return {MANAGED_BY: MANAGER}


def pod_labels(tenant: str, app: str, tier: str, internet_egress: bool = False) -> dict[str, str]:
    labels = {
        NAME: workload_name(app, tier),
        PART_OF: app,
        COMPONENT: tier,
        TENANT: tenant,
    }
    if internet_egress:
        labels[INTERNET_EGRESS] = "true"
    return labels


def tier_selector(app: str, tier: str) -> dict:
    """Policies select by part-of + component, never by name: a renamed Deployment keeps its policies."""
    return {"matchLabels": {PART_OF: app, COMPONENT: tier}}


def proxy_pod_labels() -> dict[str, str]:
    return {NAME: PROXY_NAME, PART_OF: PLATFORM, COMPONENT: PROXY_NAME}


def proxy_selector() -> dict:
    return {"matchLabels": {PART_OF: PLATFORM, COMPONENT: PROXY_NAME}}


def namespace_selector(namespace: str) -> dict:
    return {"matchLabels": {NAMESPACE_NAME: namespace}}


def namespace_labels(tenant: str, pod_security: str) -> dict[str, str]:
    return {
        TENANT: tenant,
        **managed(),
        "pod-security.kubernetes.io/enforce": pod_security,
        "pod-security.kubernetes.io/enforce-version": "latest",
        # Warn and audit at restricted even when enforcing baseline, so drift shows up in kubectl and audit logs.
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
