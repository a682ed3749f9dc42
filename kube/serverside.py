"""What the API server adds to an object that its manifest did not say.

A live object differs from the manifest it was applied from by metadata the server writes (uid, resourceVersion,
managedFields, ...), by `status`, and by fields it assigns or defaults when the manifest leaves them out
(`clusterIP`, `ipFamilies`, `sessionAffinity: None`, a container's `terminationMessagePath`, ...). Comparing a
render with a live export (`tenancy diff live.yaml build/dev/`), or what `pulumi up` created with the render, must
ignore those and only those. This module is the one list.

A field counts as filled in by the server when one side has it and the other does not, and the value is the
documented default (`sessionAffinity: None`) or one the server assigns whatever the manifest (`clusterIP`). A
field the manifest sets to anything else is compared like any other: dropping `type: LoadBalancer` from a Service
is a change, dropping `type: ClusterIP` is not.

Paths are dotted from the object's root; `[]` stands for every item of a list; a key containing dots (a label,
an annotation) is written as is (`metadata.labels.kubernetes.io/metadata.name`).
"""

from __future__ import annotations

import re
from typing import Any

# Metadata the server writes on every object; never part of a manifest's intent.
SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
                   "deletionTimestamp", "deletionGracePeriodSeconds")
# Annotations written by kubectl, controllers and volume provisioners.
SERVER_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
)


class _Assigned:
    """Marker: the server fills the field in with a value of its choosing (an IP, a node port, a finalizer)."""

    def __repr__(self) -> str:
        return "ASSIGNED"


ASSIGNED: Any = _Assigned()

# A probe's thresholds and timings the manifest leaves out (core/v1 defaults.go SetDefaults_Probe).
_PROBE = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
_CONTAINER = {
    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    "imagePullPolicy": ASSIGNED,  # Always for :latest or no tag, IfNotPresent otherwise
    "ports[].protocol": "TCP", "resources": {},
    **{f"{probe}.{k}": v for probe in ("livenessProbe", "readinessProbe", "startupProbe") for k, v in _PROBE.items()},
}
_POD_SPEC = {
    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
    "securityContext": {}, "terminationGracePeriodSeconds": 30, "enableServiceLinks": True,
    "preemptionPolicy": ASSIGNED, "priority": ASSIGNED,
    # Written as false by a manifest that says so explicitly; the API's JSON omits a false bool (omitempty).
    "hostNetwork": False, "hostPID": False, "hostIPC": False,
    "volumes[].configMap.defaultMode": 420, "volumes[].secret.defaultMode": 420,
    "volumes[].projected.defaultMode": 420,
    **{f"containers[].{k}": v for k, v in _CONTAINER.items()},
    **{f"initContainers[].{k}": v for k, v in _CONTAINER.items()},
}


def _pod_template(prefix: str) -> dict[str, Any]:
    return {f"{prefix}metadata.creationTimestamp": ASSIGNED, **{f"{prefix}spec.{k}": v for k, v in _POD_SPEC.items()}}


# Per kind ("*": every kind): path -> default value, or ASSIGNED.
DEFAULTED: dict[str, dict[str, Any]] = {
    "*": {"status": ASSIGNED, "metadata.finalizers": ASSIGNED},
    "Namespace": {"metadata.labels.kubernetes.io/metadata.name": ASSIGNED, "spec.finalizers": ASSIGNED},
    "Service": {
        "spec.clusterIP": ASSIGNED, "spec.clusterIPs": ASSIGNED, "spec.ipFamilies": ASSIGNED,
        "spec.ipFamilyPolicy": ASSIGNED, "spec.sessionAffinity": "None", "spec.internalTrafficPolicy": "Cluster",
        "spec.type": "ClusterIP", "spec.allocateLoadBalancerNodePorts": True, "spec.healthCheckNodePort": ASSIGNED,
        "spec.ports[].protocol": "TCP", "spec.ports[].targetPort": ASSIGNED, "spec.ports[].nodePort": ASSIGNED,
    },
    "NetworkPolicy": {"spec.policyTypes": ASSIGNED, "spec.ingress[].ports[].protocol": "TCP",
                      "spec.egress[].ports[].protocol": "TCP"},
    "PersistentVolumeClaim": {"spec.volumeMode": "Filesystem", "spec.volumeName": ASSIGNED,
                              "spec.storageClassName": ASSIGNED},
    "Deployment": {"spec.replicas": 1, "spec.progressDeadlineSeconds": 600, "spec.revisionHistoryLimit": 10,
                   "spec.strategy": ASSIGNED, **_pod_template("spec.template.")},
    "StatefulSet": {
        "spec.replicas": 1, "spec.podManagementPolicy": "OrderedReady", "spec.revisionHistoryLimit": 10,
        "spec.updateStrategy": ASSIGNED, "spec.persistentVolumeClaimRetentionPolicy": ASSIGNED,
        "spec.volumeClaimTemplates[].apiVersion": "v1", "spec.volumeClaimTemplates[].kind": "PersistentVolumeClaim",
        "spec.volumeClaimTemplates[].status": ASSIGNED,
        "spec.volumeClaimTemplates[].metadata.creationTimestamp": ASSIGNED,
        "spec.volumeClaimTemplates[].spec.volumeMode": "Filesystem", **_pod_template("spec.template."),
    },
    "DaemonSet": {"spec.revisionHistoryLimit": 10, "spec.updateStrategy": ASSIGNED, **_pod_template("spec.template.")},
    "ReplicaSet": {"spec.replicas": 1, **_pod_template("spec.template.")},
    "Job": {"spec.backoffLimit": 6, "spec.completionMode": "NonIndexed", "spec.completions": 1,
            "spec.parallelism": 1, "spec.suspend": False, "spec.manualSelector": ASSIGNED,
            "spec.podReplacementPolicy": ASSIGNED, "spec.selector": ASSIGNED,
            "spec.template.metadata.labels": ASSIGNED, **_pod_template("spec.template.")},
    "CronJob": {"spec.concurrencyPolicy": "Allow", "spec.failedJobsHistoryLimit": 1,
                "spec.successfulJobsHistoryLimit": 3, "spec.suspend": False,
                **_pod_template("spec.jobTemplate.spec.template.")},
    # admissionregistration/v1 defaults.go: SetDefaults_ValidatingAdmissionPolicy(Binding), SetDefaults_NamedRuleWithOperations.
    "ValidatingAdmissionPolicy": {"spec.matchConstraints.matchPolicy": "Equivalent",
                                  "spec.matchConstraints.namespaceSelector": {},
                                  "spec.matchConstraints.objectSelector": {},
                                  "spec.matchConstraints.resourceRules[].scope": "*"},
    "ValidatingAdmissionPolicyBinding": {"spec.matchResources.matchPolicy": "Equivalent",
                                         "spec.matchResources.objectSelector": {}},
    "Pod": {"spec.nodeName": ASSIGNED, "spec.tolerations": ASSIGNED, "spec.volumes": ASSIGNED,
            "spec.serviceAccount": ASSIGNED, "spec.serviceAccountName": "default",
            "spec.containers[].volumeMounts": ASSIGNED, **_pod_template("")},
}

_INDEX = re.compile(r"\[\d+\]")


def strip_server_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without status and the metadata and annotations the server writes (a shallow copy)."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(out.get("metadata") or {})
    for k in SERVER_METADATA:
        meta.pop(k, None)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    return out


def defaulted(kind: str, path: str, value: Any) -> bool:
    """Whether `value` at `path` (e.g. `spec.ports[0].protocol`), present on one side only, is the server's doing
    for an object of `kind`."""
    generic = _INDEX.sub("[]", path)
    for table in (DEFAULTED["*"], DEFAULTED.get(kind, {})):
        if generic in table:
            default = table[generic]
            return default is ASSIGNED or default == value
    if isinstance(value, dict) and value:
        # A whole mapping one side lacks, made only of defaulted fields (a Namespace's `spec` holding nothing but
        # the server's finalizers).
        return all(defaulted(kind, f"{path}.{k}", v) for k, v in value.items())
    return False
