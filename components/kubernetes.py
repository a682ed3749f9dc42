"""Turn a manifest dict into the matching pulumi_kubernetes resource."""

from __future__ import annotations

import re
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

_CLASSES = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ResourceQuota"): k8s.core.v1.ResourceQuota,
    ("v1", "LimitRange"): k8s.core.v1.LimitRange,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "StatefulSet"): k8s.apps.v1.StatefulSet,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"):
        k8s.admissionregistration.v1.ValidatingAdmissionPolicy,
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"):
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding,
}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def resource_name(manifest: dict) -> str:
    """`namespace/name` like pulumi_kubernetes' own YAML support, so names stay unique across namespaces."""
    metadata = manifest["metadata"]
    namespace = metadata.get("namespace")
    return f"{namespace}/{metadata['name']}" if namespace else metadata["name"]


# Groups of CustomResourceDefinitions the program creates objects of (network-policy-api's cluster policies):
# no typed class, the manifest as it is.
CUSTOM_GROUPS = ("policy.networking.k8s.io",)


def create(manifest: dict, opts: Optional[pulumi.ResourceOptions] = None) -> pulumi.CustomResource:
    if manifest["apiVersion"].split("/")[0] in CUSTOM_GROUPS:
        return k8s.apiextensions.CustomResource(
            resource_name(manifest), api_version=manifest["apiVersion"], kind=manifest["kind"],
            metadata=manifest["metadata"], spec=manifest["spec"], opts=opts)
    cls = _CLASSES[(manifest["apiVersion"], manifest["kind"])]
    fields = {_snake(k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    return cls(resource_name(manifest), opts=opts, **fields)
