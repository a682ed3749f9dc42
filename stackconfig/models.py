"""The stack config contract (README "Stack config reference") as pydantic models: camelCase keys, defaults, unknown keys rejected.

Field-level rules live in `stackconfig.types`; rules spanning fields (unique names, dangling consumers, quota fit)
live in `stackconfig.checks`, so that every problem is reported at once rather than the first one only.
"""

from __future__ import annotations

import ipaddress
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from stackconfig import cni
from stackconfig.types import (
    AppName,
    Cidr,
    DnsLabel,
    EnvVars,
    Image,
    LabelMap,
    Port,
    PositiveInt,
    Bytes,
    DnsSubdomain,
    Quantity,
    Replicas,
    UserId,
    WritablePath,
)

TIERS = ("frontend", "backend", "database")
DEFAULT_CLUSTER_CIDRS = tuple(ipaddress.ip_network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


class Strict(BaseModel):
    # Only the camelCase keys of the contract: accepting snake_case too would let `metricsPort` and `metrics_port`
    # both appear with different values.
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, validate_by_name=False, validate_by_alias=True,
                              frozen=True)


# What the LimitRange of every tenant namespace (specs/tenant.py) gives a container that leaves them out.
DEFAULT_LIMITS = {"cpu": "500m", "memory": "256Mi"}
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}


class Amounts(Strict):
    cpu: Optional[Quantity] = None
    memory: Optional[Bytes] = None


class Resources(Strict):
    """A container's requests and limits; any part may be left out, as in Kubernetes: a request left out is the
    limit given for it, and what is still missing comes from the namespace's LimitRange (`effective`)."""

    requests: Amounts = Field(default_factory=Amounts)
    limits: Amounts = Field(default_factory=Amounts)

    def effective(self, key: str) -> tuple[str, str]:
        """(request, limit) for "cpu" or "memory" as the pod will get them in a tenant namespace."""
        request, limit = getattr(self.requests, key), getattr(self.limits, key)
        if request is None:
            request = limit if limit is not None else DEFAULT_REQUESTS[key]
        return request, limit if limit is not None else DEFAULT_LIMITS[key]

    def manifest(self) -> dict[str, dict[str, str]]:
        """The container's `resources` as written: only what the config gives (the API server defaults the rest)."""
        out = {part: {k: v for k, v in getattr(self, part).model_dump().items() if v is not None}
               for part in ("requests", "limits")}
        return {part: amounts for part, amounts in out.items() if amounts}


def _resources(req_cpu: str, req_mem: str, lim_cpu: str, lim_mem: str) -> Resources:
    return Resources(requests=Amounts(cpu=req_cpu, memory=req_mem), limits=Amounts(cpu=lim_cpu, memory=lim_mem))


class TierConfig(Strict):
    """What every tier shares: image, serving port, size and how it runs."""

    image: Image
    port: Port
    replicas: Replicas
    resources: Resources
    # Restricted Pod Security needs a non-root user; images that declare a named user still need a numeric one.
    run_as_user: UserId = 10001
    # Images that write outside `writablePaths` (emptyDirs) need this false; the default is the safe one.
    read_only_root_filesystem: bool = True
    writable_paths: list[WritablePath] = Field(default_factory=lambda: ["/tmp"])
    env: EnvVars = Field(default_factory=dict)


class LoadBalancer(Strict):
    source_ranges: list[Cidr] = Field(min_length=1)


class Frontend(TierConfig):
    port: Port = 8080
    replicas: Replicas = 2
    resources: Resources = _resources("100m", "128Mi", "500m", "256Mi")
    load_balancer: Optional[LoadBalancer] = None


class Backend(TierConfig):
    port: Port = 8080
    replicas: Replicas = 2
    resources: Resources = _resources("250m", "256Mi", "1", "512Mi")
    internet_egress: bool = False


class Database(TierConfig):
    image: Image = "postgres:16"
    port: Port = 5432
    replicas: Replicas = 1
    resources: Resources = _resources("250m", "512Mi", "1", "1Gi")
    storage: Bytes = "10Gi"
    storage_class: Optional[DnsSubdomain] = None
    data_path: WritablePath = "/var/lib/postgresql/data"
    writable_paths: list[WritablePath] = Field(default_factory=lambda: ["/tmp", "/var/run/postgresql"])
    # Name of an existing Secret in the tenant namespace with key `password` (e.g. synced by external-secrets);
    # the program never holds database passwords itself.
    password_secret: Optional[DnsSubdomain] = None




class Consumer(Strict):
    """Pods of another app (usually another tenant's) allowed into this app's backend port."""

    tenant: DnsLabel
    app: AppName
    tier: Literal["frontend", "backend"] = "backend"


class App(Strict):
    name: AppName
    metrics_port: Port = 9090
    frontend: Frontend
    backend: Backend
    database: Database = Field(default_factory=Database)
    consumers: list[Consumer] = Field(default_factory=list)


class Quota(Strict):
    cpu: Quantity = "4"
    memory: Bytes = "8Gi"
    pods: PositiveInt = 30
    storage: Bytes = "20Gi"


class TenantConfig(Strict):
    name: DnsLabel
    owners: list[str] = Field(default_factory=list)
    quota: Quota = Field(default_factory=Quota)
    # `privileged` is deliberately not offered: it would void the zero-trust promise.
    pod_security: Literal["restricted", "baseline"] = "restricted"
    apps: list[App] = Field(default_factory=list)


class Dns(Strict):
    namespace: DnsLabel = "kube-system"
    pod_labels: LabelMap = Field(default_factory=lambda: {"k8s-app": "kube-dns"})
    port: Port = 53


class Monitoring(Strict):
    namespace: DnsLabel = "monitoring"
    pod_labels: LabelMap = Field(default_factory=lambda: {"app.kubernetes.io/name": "prometheus"})


class EgressProxy(Strict):
    enabled: bool = True
    namespace: DnsLabel = "egress-proxy"
    image: Image = "ubuntu/squid:6.10-24.10_beta"
    port: Port = 3128
    replicas: Replicas = 2
    resources: Resources = _resources("100m", "128Mi", "500m", "256Mi")
    run_as_user: UserId = 10001
    read_only_root_filesystem: bool = True
    writable_paths: list[WritablePath] = Field(default_factory=lambda: ["/tmp", "/var/run/squid", "/var/spool/squid", "/var/log/squid"])
    cluster_cidrs: list[Cidr] = Field(default_factory=lambda: list(DEFAULT_CLUSTER_CIDRS))
    # Ports the proxy may open on the internet; least privilege: web only unless the platform says otherwise.
    internet_ports: list[Port] = Field(default_factory=lambda: [80, 443], min_length=1)



def _kubernetes_version(value: object) -> str:
    if isinstance(value, float):
        # YAML reads 1.30 as the float 1.3: the intended version is unknowable, so insist on quotes.
        raise ValueError(f"must be a quoted string such as \"1.32\" (YAML read {value!r} as a number)")
    if not isinstance(value, str):
        raise ValueError(f"must be a string such as \"1.32\", got {value!r}")
    major, _, minor = value.partition(".")
    if major != "1" or not minor.isdigit():
        raise ValueError(f"'{value}' is not a Kubernetes minor version such as \"1.32\"")
    return value


class ClusterConfig(Strict):
    cni: str
    allow_unenforced_policies: bool = False
    kubernetes_version: str = "1.32"
    protect: bool = False
    dns: Dns = Field(default_factory=Dns)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    egress_proxy: EgressProxy = Field(default_factory=EgressProxy)
    # Platform-owned cluster policies tenants cannot override (issue 13); None: what the CNI implements.
    admin_policies: Optional[Literal["none", "ClusterNetworkPolicy", "AdminNetworkPolicy"]] = None

    _version = field_validator("kubernetes_version", mode="before")(_kubernetes_version)

    @field_validator("cni", mode="before")
    @classmethod
    def _cni_name(cls, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must name the cluster's CNI plugin (e.g. calico, cilium), got {value!r}")
        return value.strip().lower()

    @property
    def admin_policy_api(self) -> str:
        """The cluster policy API to render ("none", "ClusterNetworkPolicy" or "AdminNetworkPolicy"): the one
        configured, else the CNI's default from the CNI table (stackconfig/cni.py)."""
        return self.admin_policies or cni.default_admin_policies(self.cni)


class StackConfig(Strict):
    cluster: ClusterConfig
    tenants: list[TenantConfig] = Field(min_length=1)

    def tenant(self, name: str) -> TenantConfig:
        return next(t for t in self.tenants if t.name == name)
