"""Pod templates that pass Pod Security `restricted`: non-root, no privilege escalation, no capabilities,
RuntimeDefault seccomp, read-only root filesystem with explicit scratch space, requests and limits, probes."""

from __future__ import annotations

from dataclasses import dataclass, field

from kube.labels import METRICS_PORT_NAME
from stackconfig.models import Resources

SERVING_PORT_NAME = "serve"


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    port: int
    resources: Resources
    run_as_user: int
    read_only_root_filesystem: bool
    writable_paths: list[str]
    env: dict[str, str] = field(default_factory=dict)
    metrics_port: int | None = None
    extra_env: list[dict] = field(default_factory=list)
    extra_mounts: list[dict] = field(default_factory=list)


def _scratch_volume_name(index: int) -> str:
    return f"scratch-{index}"


def container(spec: ContainerSpec) -> dict:
    ports = [{"name": SERVING_PORT_NAME, "containerPort": spec.port, "protocol": "TCP"}]
    if spec.metrics_port is not None:
        ports.append({"name": METRICS_PORT_NAME, "containerPort": spec.metrics_port, "protocol": "TCP"})
    mounts = [{"name": _scratch_volume_name(i), "mountPath": path} for i, path in enumerate(spec.writable_paths)]
    env = [{"name": k, "value": v} for k, v in sorted(spec.env.items())] + spec.extra_env
    body: dict = {
        "name": spec.name,
        "image": spec.image,
        "ports": ports,
        "resources": spec.resources.manifest(),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": spec.read_only_root_filesystem,
            "runAsNonRoot": True,
            "runAsUser": spec.run_as_user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "readinessProbe": {"tcpSocket": {"port": SERVING_PORT_NAME}, "periodSeconds": 10, "failureThreshold": 3},
        "livenessProbe": {"tcpSocket": {"port": SERVING_PORT_NAME}, "initialDelaySeconds": 15, "periodSeconds": 20},
        "volumeMounts": mounts + spec.extra_mounts,
    }
    if env:
        body["env"] = env
    return body


def pod_spec(spec: ContainerSpec) -> dict:
    return {
        # Workloads talk to peers, not to the API server: no token to steal from a compromised pod.
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "hostNetwork": False,
        "hostPID": False,
        "hostIPC": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": spec.run_as_user,
            "runAsGroup": spec.run_as_user,
            "fsGroup": spec.run_as_user,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container(spec)],
        "volumes": [{"name": _scratch_volume_name(i), "emptyDir": {}} for i in range(len(spec.writable_paths))],
    }
