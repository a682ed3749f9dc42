"""The three tiers of an app (Deployments, a StatefulSet with its claims, Services) and the egress proxy."""

from __future__ import annotations

from typing import Any

from kube.labels import (
    COMPONENT,
    NAME,
    PART_OF,
    PROXY_NAME,
    managed,
    pod_labels,
    proxy_pod_labels,
    workload_name,
)
from specs.pods import SERVING_PORT_NAME, ContainerSpec, pod_spec
from stackconfig.models import App, ClusterConfig, TenantConfig, TierConfig

DATA_VOLUME = "data"
SKIP_AWAIT = "pulumi.com/skipAwait"


def _selector(labels: dict[str, str]) -> dict:
    # Selectors are immutable: only the identity labels, never flags such as internet egress.
    return {"matchLabels": {k: labels[k] for k in (NAME, PART_OF, COMPONENT)}}


def _container(name: str, tier: TierConfig, metrics_port: int | None, **extra) -> ContainerSpec:
    return ContainerSpec(
        name=name, image=tier.image, port=tier.port, resources=tier.resources, run_as_user=tier.run_as_user,
        read_only_root_filesystem=tier.read_only_root_filesystem, writable_paths=list(tier.writable_paths),
        env=dict(tier.env), metrics_port=metrics_port, **extra,
    )


def _metadata(name: str, namespace: str, labels: dict[str, str]) -> dict:
    return {"name": name, "namespace": namespace, "labels": {**labels, **managed()}}


def _deployment(name: str, namespace: str, labels: dict[str, str], replicas: int, container: ContainerSpec) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _metadata(name, namespace, labels),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": _selector(labels),
            "template": {"metadata": {"labels": labels}, "spec": pod_spec(container)},
        },
    }


def deployment(tenant: TenantConfig, app: App, tier: str) -> dict:
    config = getattr(app, tier)
    labels = pod_labels(tenant.name, app.name, tier, internet_egress=getattr(config, "internet_egress", False))
    return _deployment(workload_name(app.name, tier), tenant.name, labels, config.replicas,
                       _container(tier, config, app.metrics_port))


def _database_container(app: App) -> ContainerSpec:
    database = app.database
    env: list[dict[str, Any]] = [{"name": "PGDATA", "value": f"{database.data_path}/pgdata"}]
    if database.password_secret:
        env.append({"name": "POSTGRES_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": database.password_secret, "key": "password"}}})
    return _container("database", database, app.metrics_port, extra_env=env,
                      extra_mounts=[{"name": DATA_VOLUME, "mountPath": database.data_path}])


def _claim_spec(app: App) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": app.database.storage}}}
    if app.database.storage_class:
        spec["storageClassName"] = app.database.storage_class
    return spec


def statefulset(tenant: TenantConfig, app: App) -> dict:
    labels = pod_labels(tenant.name, app.name, "database")
    name = workload_name(app.name, "database")
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": _metadata(name, tenant.name, labels),
        "spec": {
            "replicas": app.database.replicas,
            "serviceName": name,
            "selector": _selector(labels),
            # Data outlives the StatefulSet: deleting or scaling it down never deletes a claim.
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec(_database_container(app))},
            "volumeClaimTemplates": [{"metadata": {"name": DATA_VOLUME}, "spec": _claim_spec(app)}],
        },
    }


def database_claims(tenant: TenantConfig, app: App) -> list[dict]:
    """The claims the StatefulSet would create, made up front under the names it adopts (`data-<sts>-<ordinal>`),
    so Pulumi owns them and can protect and retain them."""
    sts = workload_name(app.name, "database")
    labels = {k: v for k, v in pod_labels(tenant.name, app.name, "database").items() if k != NAME}
    return [{
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": f"{DATA_VOLUME}-{sts}-{ordinal}", "namespace": tenant.name,
            "labels": {**labels, **managed()},
            # WaitForFirstConsumer storage classes bind only once the pod exists: don't block the update on it.
            "annotations": {SKIP_AWAIT: "true"},
        },
        "spec": _claim_spec(app),
    } for ordinal in range(app.database.replicas)]


def _service(name: str, namespace: str, labels: dict[str, str], port: int, **spec: object) -> dict:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": _metadata(name, namespace, labels),
        "spec": {
            **spec,
            "selector": _selector(labels)["matchLabels"],
            "ports": [{"name": SERVING_PORT_NAME, "port": port, "targetPort": SERVING_PORT_NAME, "protocol": "TCP"}],
        },
    }


def service(tenant: TenantConfig, app: App, tier: str) -> dict:
    config = getattr(app, tier)
    spec: dict = {}
    if tier == "database":
        spec["clusterIP"] = "None"  # headless: stable per-pod DNS for the StatefulSet
    elif tier == "frontend" and app.frontend.load_balancer:
        spec["type"] = "LoadBalancer"
        spec["loadBalancerSourceRanges"] = [str(c) for c in app.frontend.load_balancer.source_ranges]
        # Keep client source IPs, or the NetworkPolicy's ipBlocks would only ever see node addresses.
        spec["externalTrafficPolicy"] = "Local"
    else:
        spec["type"] = "ClusterIP"
    return _service(workload_name(app.name, tier), tenant.name, pod_labels(tenant.name, app.name, tier),
                    config.port, **spec)


def proxy_namespace(cluster: ClusterConfig) -> dict:
    return {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": cluster.egress_proxy.namespace, "labels": {
            **managed(),
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
        }},
    }


def proxy_deployment(cluster: ClusterConfig) -> dict:
    proxy = cluster.egress_proxy
    return _deployment(PROXY_NAME, proxy.namespace, proxy_pod_labels(), proxy.replicas, ContainerSpec(
        name="proxy", image=proxy.image, port=proxy.port, resources=proxy.resources,
        run_as_user=proxy.run_as_user, read_only_root_filesystem=proxy.read_only_root_filesystem,
        writable_paths=list(proxy.writable_paths),
    ))


def proxy_service(cluster: ClusterConfig) -> dict:
    proxy = cluster.egress_proxy
    return _service(PROXY_NAME, proxy.namespace, proxy_pod_labels(), proxy.port, type="ClusterIP")
