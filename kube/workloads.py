"""Where a workload kind keeps its pod template: one answer for the loader, the validator and the lab."""

from __future__ import annotations

from typing import Any

# Kinds whose objects run pods from a template (a Pod is its own template).
TEMPLATED_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
                             "CronJob"})


def pod_template(obj: Any) -> tuple[str, Any]:
    """(field path prefix, what is at the pod template's place) of a workload object: None when nothing is there
    or the way to it is broken, else the value as written (a mapping, or whatever a bad manifest holds, for the
    caller to judge); ("", None) when its kind runs no pods. A Pod's template is the Pod itself (prefix "")."""
    if not isinstance(obj, dict):
        return "", None
    kind, spec = obj.get("kind"), obj.get("spec")
    if kind == "Pod":
        return "", obj
    if kind not in TEMPLATED_KINDS:
        return "", None
    if kind == "CronJob":
        path = "spec.jobTemplate.spec.template."
        job = spec.get("jobTemplate") if isinstance(spec, dict) else None
        job_spec = job.get("spec") if isinstance(job, dict) else None
        template = job_spec.get("template") if isinstance(job_spec, dict) else None
    else:
        path = "spec.template."
        template = spec.get("template") if isinstance(spec, dict) else None
    return path, template
