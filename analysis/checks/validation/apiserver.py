"""What the Kubernetes API server would reject in one object, as `field: message` lines.

Two halves, one truth each:
- `loader_problems`: the reachability engine's manifest loader already refuses, with located messages, every
  malformed field it interprets (names, namespaces, labels, selectors and their operators and values, ipBlock
  CIDRs and `except` inside `cidr`, ports 1-65535, `endPort` only after a numeric `port` and not below it, named
  ports as IANA service names, protocols, `policyTypes` values, container ports). It is called, not copied.
- `extra_problems`: API-server rules on fields the engine does not read (annotations, Services, workload
  selectors and replicas, container names, mount paths, port names, environment variable names, user and group
  ids, more than two policyTypes), following pkg/apis/core/validation,
  pkg/apis/apps/validation and pkg/apis/networking/validation.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from kube import names
from kube.workloads import pod_template
from analysis.reachability.manifests import ManifestError, build_cluster
from analysis.reachability.ports import PROTOCOLS, is_port_name, parse_port_number
from analysis.reachability.selectors import check_label_key, check_label_value, parse_labels

_HERE = "<object>"
WORKLOADS_WITH_SELECTOR = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
TOTAL_ANNOTATION_BYTES = 256 * 1024


def object_problems(obj: Any) -> list[str]:
    """Every API-server rejection in `obj`, loader-detected first."""
    return loader_problems(obj) + extra_problems(obj)


def loader_problems(obj: Any) -> list[str]:
    problems: list[str] = []
    try:
        build_cluster([(_HERE, obj)], problems)
    except ManifestError as exc:
        problems = exc.problems
    prefix = f"{_HERE}: "
    return [p[len(prefix):] if p.startswith(prefix) else p for p in problems]


def extra_problems(obj: Any) -> list[str]:
    if not isinstance(obj, dict):
        return []
    problems: list[str] = []
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        _annotations(meta.get("annotations"), problems)
    kind, spec = obj.get("kind"), obj.get("spec")
    if not isinstance(spec, dict):
        return problems
    if kind == "NetworkPolicy":
        types = spec.get("policyTypes")
        if isinstance(types, list) and len(types) > 2:
            problems.append("spec.policyTypes: may not specify more than two policyTypes")
    elif kind == "Service":
        _service(spec, problems)
    if kind in WORKLOADS_WITH_SELECTOR:
        _workload_selector(spec, problems)
    if kind in WORKLOADS_WITH_SELECTOR and "replicas" in spec:
        _int32(spec.get("replicas"), "spec.replicas", problems, minimum=0)
    _containers(kind, spec, problems)
    return problems


def _int32(value: Any, path: str, problems: list[str], minimum: int = 0) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{path}: must be an integer, got {value!r}")
    elif not minimum <= value <= names.INT32_MAX:
        problems.append(f"{path}: must be between {minimum} and {names.INT32_MAX}, inclusive (got {value})")


def _security_context(context: Any, path: str, problems: list[str]) -> None:
    if not isinstance(context, dict):
        return
    for field in ("runAsUser", "runAsGroup", "fsGroup"):
        if field in context:
            _int32(context.get(field), f"{path}.{field}", problems)


def _container_fields(c: dict, path: str, problems: list[str]) -> None:
    """Per container: unique mount paths, unique port names, valid env names, id ranges."""
    mounts: set[str] = set()
    for i, mount in enumerate(c.get("volumeMounts") or () if isinstance(c.get("volumeMounts"), list) else ()):
        where = mount.get("mountPath") if isinstance(mount, dict) else None
        if isinstance(where, str):
            if where in mounts:
                problems.append(f"{path}.volumeMounts[{i}].mountPath: {where!r} must be unique")
            mounts.add(where)
    port_names: set[str] = set()
    for i, port in enumerate(c.get("ports") or () if isinstance(c.get("ports"), list) else ()):
        name = port.get("name") if isinstance(port, dict) else None
        if isinstance(name, str) and name:
            if name in port_names:
                problems.append(f"{path}.ports[{i}].name: duplicate port name {name!r}")
            port_names.add(name)
    for i, env in enumerate(c.get("env") or () if isinstance(c.get("env"), list) else ()):
        name = env.get("name") if isinstance(env, dict) else None
        why = names.env_var_name(name) if isinstance(name, str) else "required"
        if why:
            problems.append(f"{path}.env[{i}].name: invalid environment variable name {name!r}: {why}")
    _security_context(c.get("securityContext"), f"{path}.securityContext", problems)


def _annotations(annotations: Any, problems: list[str]) -> None:
    if not isinstance(annotations, dict):
        return
    size = 0
    for key, value in annotations.items():
        # The API server checks annotation keys case-insensitively (it lowercases them first).
        why = names.qualified_name(str(key).lower())
        if why:
            problems.append(f"metadata.annotations: invalid annotation key {key!r}: {why}")
        size += len(str(key)) + len(str(value))
    if size > TOTAL_ANNOTATION_BYTES:
        problems.append(f"metadata.annotations: may not be larger than {TOTAL_ANNOTATION_BYTES} bytes (is {size})")


def _service(spec: dict, problems: list[str]) -> None:
    kind = spec.get("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        problems.append(f"spec.type: unsupported Service type {kind!r} (expected one of {', '.join(SERVICE_TYPES)})")
    ports = spec.get("ports")
    ports = ports if isinstance(ports, list) else []
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        problems.append("spec.ports: required (a Service needs at least one port unless headless)")
    seen: set[str] = set()
    for i, port in enumerate(ports):
        path = f"spec.ports[{i}]"
        if not isinstance(port, dict):
            problems.append(f"{path}: expected a mapping, got {type(port).__name__}")
            continue
        name = port.get("name")
        if name in (None, ""):
            if len(ports) > 1:
                problems.append(f"{path}.name: required when a Service has more than one port")
        elif not isinstance(name, str) or names.dns1123_label(name):
            problems.append(f"{path}.name: invalid port name {name!r}: {names.dns1123_label(str(name))}")
        elif name in seen:
            problems.append(f"{path}.name: duplicate port name {name!r}")
        else:
            seen.add(name)
        parse_port_number(port.get("port"), f"{path}.port", problems)
        protocol = port.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            problems.append(f"{path}.protocol: invalid protocol {protocol!r} (expected one of {', '.join(PROTOCOLS)})")
        target = port.get("targetPort")
        if isinstance(target, str):
            if not is_port_name(target):
                problems.append(f"{path}.targetPort: invalid named port {target!r} (must be an IANA service name "
                                "with a letter)")
        elif target is not None:
            parse_port_number(target, f"{path}.targetPort", problems)
        if port.get("nodePort") is not None:
            parse_port_number(port.get("nodePort"), f"{path}.nodePort", problems)
    for i, cidr in enumerate(spec.get("loadBalancerSourceRanges") or ()):
        try:
            ipaddress.ip_network(str(cidr), strict=False)
            if "/" not in str(cidr):
                raise ValueError
        except ValueError:
            problems.append(f"spec.loadBalancerSourceRanges[{i}]: invalid CIDR {cidr!r}")
    policy = spec.get("externalTrafficPolicy")
    if policy is not None:
        if policy not in ("Cluster", "Local"):
            problems.append(f"spec.externalTrafficPolicy: {policy!r} is not 'Cluster' or 'Local'")
        elif kind not in ("NodePort", "LoadBalancer"):
            problems.append("spec.externalTrafficPolicy: may only be set when type is 'NodePort' or 'LoadBalancer'")
    selector = spec.get("selector")
    if selector is not None:
        parse_labels(selector, "spec.selector", problems)


def _workload_selector(spec: dict, problems: list[str]) -> None:
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        problems.append("spec.selector: required")
        return
    match = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not match and not exprs:
        problems.append("spec.selector: empty selector is invalid for this kind (it would adopt every pod)")
        return
    labels = {}
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
        labels = {str(k): str(v) for k, v in (template["metadata"].get("labels") or {}).items()}
    if isinstance(match, dict):
        for key, value in match.items():
            check_label_key(str(key), "spec.selector.matchLabels", problems)
            check_label_value(str(value), f"spec.selector.matchLabels[{key!r}]", problems)
        if any(labels.get(str(k)) != str(v) for k, v in match.items()):
            problems.append("spec.template.metadata.labels: selector does not match template labels")


def _containers(kind: Any, spec: dict, problems: list[str]) -> None:
    template_path, template = pod_template({"kind": kind, "spec": spec})
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        return
    podspec = template["spec"]
    _security_context(podspec.get("securityContext"), f"{template_path}spec.securityContext", problems)
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        containers = podspec.get(field)
        for i, c in enumerate(containers if isinstance(containers, list) else []):
            if not isinstance(c, dict):
                continue
            _container_fields(c, f"{template_path}spec.{field}[{i}]", problems)
            name = c.get("name")
            path = f"{template_path}spec.{field}[{i}].name"
            if not isinstance(name, str) or not name:
                problems.append(f"{path}: required")
            elif names.dns1123_label(name):
                problems.append(f"{path}: invalid container name {name!r}: {names.dns1123_label(name)}")
            elif name in seen:
                problems.append(f"{path}: duplicate container name {name!r}")
            else:
                seen.add(name)
