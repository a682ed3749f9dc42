"""Rules that span fields of a validated stack config. Each returns problem lines (`<config path>: <why>`)."""

from __future__ import annotations

import posixpath
from fractions import Fraction
from typing import Iterator, Sequence

from kube.endpoints import Network
from stackconfig import cni
from stackconfig.models import App, StackConfig, TenantConfig
from stackconfig.quantity import format_quantity, parse_quantity

TENANTS = "tenancy:tenants"
CLUSTER = "tenancy:cluster"
# StatefulSet pods carry `controller-revision-hash: <name>-<10 chars>`, a label value limited to 63 characters.
MAX_STATEFULSET_NAME = 52
RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def cross_field_problems(config: StackConfig) -> list[str]:
    return [
        *_cni_problems(config),
        *_admin_policy_problems(config),
        *_cluster_cidr_problems(config),
        *_proxy_namespace_problems(config),
        *_tenant_name_problems(config),
        *(p for i, t in enumerate(config.tenants) for p in _tenant_problems(config, i, t)),
    ]


def exposure_warnings(config: StackConfig) -> list[str]:
    """Valid but probably not meant, each line saying why: load-balancer ranges that admit the internet or lie in
    the cluster's own ranges, an egress proxy with no replicas while backends ask for internet egress."""
    return [*_exposure_warnings(config), *_proxy_warnings(config)]


def _exposure_warnings(config: StackConfig) -> Iterator[str]:
    cluster_ranges = config.cluster.egress_proxy.cluster_cidrs
    for i, tenant in enumerate(config.tenants):
        for j, app in enumerate(tenant.apps):
            lb = app.frontend.load_balancer
            if lb is None:
                continue
            for k, network in enumerate(lb.source_ranges):
                where = f"{TENANTS}[{i}].apps[{j}].frontend.loadBalancer.sourceRanges[{k}]"
                text = str(network)
                if network.prefixlen == 0:
                    yield (f"{where}: {text} admits the whole internet to {tenant.name}/{app.name}-frontend; "
                           "list the client ranges instead, unless a public service is meant")
                    continue
                inside = [c for c in cluster_ranges if c.version == network.version and network.subnet_of(c)]  # type: ignore[arg-type]  # same IP version
                if inside:
                    yield (f"{where}: {text} lies inside the cluster range {inside[0]} "
                           f"({CLUSTER}.egressProxy.clusterCidrs): traffic from there is pods' or nodes' own, which "
                           "ipBlock peers are not meant to match (CNIs differ); load-balancer clients come from "
                           "outside the cluster")


def _proxy_warnings(config: StackConfig) -> Iterator[str]:
    proxy = config.cluster.egress_proxy
    if not proxy.enabled or proxy.replicas > 0:
        return
    asking = [f"{t.name}/{a.name}" for t in config.tenants for a in t.apps if a.backend.internet_egress]
    if asking:
        more = f" and {len(asking) - 3} more" if len(asking) > 3 else ""
        yield (f"{CLUSTER}.egressProxy.replicas: 0 runs no proxy, yet {', '.join(asking[:3])}{more} declare "
               "internetEgress: their backends reach nothing outside the cluster until the proxy runs again")


def cni_warnings(config: StackConfig) -> list[str]:
    return [*_enforcement_warnings(config), *admin_policy_warnings(config)]


def _enforcement_warnings(config: StackConfig) -> list[str]:
    support = cni.classify(config.cluster.cni)
    if support is cni.CniSupport.UNKNOWN:
        return [f"{CLUSTER}.cni: {cni.unknown_message(config.cluster.cni)}"]
    if support is cni.CniSupport.NON_ENFORCING and config.cluster.allow_unenforced_policies:
        return [f"{CLUSTER}.cni: {cni.acknowledged_message(config.cluster.cni)}"]
    return []


def admin_policy_warnings(config: StackConfig) -> list[str]:
    cluster = config.cluster
    chosen, support = cluster.admin_policies, cni.classify(cluster.cni)
    defaulted_to_none = chosen is None and cluster.admin_policy_api == cni.NO_ADMIN_POLICIES
    if defaulted_to_none and support is not cni.CniSupport.NON_ENFORCING:
        return [f"{CLUSTER}.adminPolicies: {cni.admin_policies_default_message(cluster.cni)}"]
    unimplemented = chosen not in (None, cni.NO_ADMIN_POLICIES) and chosen not in cni.admin_policy_apis(cluster.cni)
    warnings = []
    if unimplemented and (support is cni.CniSupport.UNKNOWN or cluster.allow_unenforced_policies):
        warnings.append(f"{CLUSTER}.adminPolicies: {cni.admin_policies_unverified_message(cluster.cni, str(chosen))}")
    if cluster.admin_policy_api != cni.NO_ADMIN_POLICIES and not cni.tenant_admission_supported(cluster.kubernetes_version):
        warnings.append(f"{CLUSTER}.kubernetesVersion: "
                        f"{cni.tenant_admission_unsupported_message(cluster.kubernetes_version)}")
    return warnings


def _admin_policy_problems(config: StackConfig) -> Iterator[str]:
    cluster = config.cluster
    chosen, support = cluster.admin_policies, cni.classify(cluster.cni)
    if chosen not in (None, cni.NO_ADMIN_POLICIES) and chosen not in cni.admin_policy_apis(cluster.cni) \
            and support is not cni.CniSupport.UNKNOWN and not cluster.allow_unenforced_policies:
        yield f"{CLUSTER}.adminPolicies: {cni.admin_policies_unsupported_message(cluster.cni, chosen)}"
    api = cluster.admin_policy_api
    if api == cni.NO_ADMIN_POLICIES:
        return
    limits = cni.ADMIN_POLICY_LIMITS[api]
    # The consumer passes (policies/consumer_pass.py) are the only cluster policies that grow with the config:
    # one object per group of pods, one rule per `limits.peers` peers (and, on the consumer's side, per port).
    outgoing: dict[tuple[str, str, str], dict[int, set[tuple[str, str]]]] = {}
    for i, tenant in enumerate(config.tenants):
        for j, app in enumerate(tenant.apps):
            sources = {(c.tenant, c.app, c.tier) for c in app.consumers if c.tenant != tenant.name}
            rules = -(-len(sources) // limits.peers)
            if rules > limits.rules:
                yield (f"{TENANTS}[{i}].apps[{j}].consumers: {len(sources)} consumers from other tenants; one "
                       f"{api} admits at most {limits.rules} rules of {limits.peers} peers "
                       f"({limits.rules * limits.peers} consumers) into one backend. Group consumers into fewer "
                       "apps, or set tenancy:cluster.adminPolicies: none")
            for source in sources:
                outgoing.setdefault(source, {}).setdefault(app.backend.port, set()).add((tenant.name, app.name))
    for (tenant_name, app_name, tier), ports in sorted(outgoing.items()):
        rules = sum(-(-len(backends) // limits.peers) for backends in ports.values())
        if rules > limits.rules:
            count = sum(len(b) for b in ports.values())
            yield (f"{TENANTS}: {tenant_name}/{app_name} {tier} consumes {count} backends of other tenants on "
                   f"{len(ports)} ports; one {api} admits at most {limits.rules} rules of {limits.peers} peers "
                   f"(one rule per port and per {limits.peers} backends). Declare fewer consumers, or set "
                   "tenancy:cluster.adminPolicies: none")


def _cni_problems(config: StackConfig) -> Iterator[str]:
    cluster = config.cluster
    if cni.classify(cluster.cni) is cni.CniSupport.NON_ENFORCING and not cluster.allow_unenforced_policies:
        yield f"{CLUSTER}.cni: {cni.non_enforcing_message(cluster.cni)}"


def _overlaps(path: str, networks: Sequence[Network]) -> Iterator[str]:
    for i, a in enumerate(networks):
        for j in range(i):
            b = networks[j]
            if a.version == b.version and a.overlaps(b):
                yield f"{path}[{i}]: {a} overlaps {path}[{j}] {b}; list each range once"


def _proxy_namespace_problems(config: StackConfig) -> Iterator[str]:
    """The proxy's namespace gets default deny; in the DNS or monitoring namespace that would cut those off."""
    cluster = config.cluster
    proxy = cluster.egress_proxy.namespace
    if cluster.egress_proxy.enabled:
        if proxy in RESERVED_NAMESPACES or proxy.startswith("kube-"):
            yield f"{CLUSTER}.egressProxy.namespace: '{proxy}' is reserved for Kubernetes; the proxy needs a namespace of its own"
        for other, key in ((cluster.dns.namespace, "dns.namespace"), (cluster.monitoring.namespace, "monitoring.namespace")):
            if proxy == other:
                yield (f"{CLUSTER}.egressProxy.namespace: '{proxy}' is also {CLUSTER}.{key}; the proxy's namespace is "
                       "default-deny, which would cut that service off")


def _cluster_cidr_problems(config: StackConfig) -> Iterator[str]:
    proxy = config.cluster.egress_proxy
    path = f"{CLUSTER}.egressProxy.clusterCidrs"
    # The proxy may reach everything outside these ranges: with none listed it could reach every pod (scenario 4).
    if proxy.enabled and not proxy.cluster_cidrs:
        yield f"{path}: must list the cluster's pod, service and private ranges; with none the proxy could reach every pod"
    for i, network in enumerate(proxy.cluster_cidrs):
        if network.prefixlen == 0:
            # The proxy's internet is `<family>/0 except clusterCidrs`: an except equal to its cidr is refused by
            # the API server (and would leave the proxy no address of that family anyway).
            yield (f"{path}[{i}]: {network} is every IPv{network.version} address: the proxy's internet would be "
                   f"empty and its policy invalid (an ipBlock except may not equal its cidr); list the cluster's "
                   "own ranges")
    yield from _overlaps(path, proxy.cluster_cidrs)
    yield from _mount_problems(f"{CLUSTER}.egressProxy", proxy.writable_paths)


def _mount_problems(path: str, writable_paths: list[str], data_path: str | None = None) -> Iterator[str]:
    """Each writable path (and the database's data path) is one volume mount of the container: the API server
    refuses two mounts at one mountPath."""
    seen: dict[str, int] = {}
    for i, mount in enumerate(writable_paths):
        key = posixpath.normpath(mount)
        if key in seen:
            yield (f"{path}.writablePaths[{i}]: '{mount}' is already writablePaths[{seen[key]}]; each path is one "
                   "volume mount and the API server refuses duplicate mountPaths")
        seen.setdefault(key, i)
    if data_path is not None and posixpath.normpath(data_path) in seen:
        yield (f"{path}.dataPath: '{data_path}' is also writablePaths[{seen[posixpath.normpath(data_path)]}]; the "
               "data volume needs a mount path of its own")


def _platform_namespaces(config: StackConfig) -> dict[str, str]:
    cluster = config.cluster
    names = {cluster.dns.namespace: "dns.namespace", cluster.monitoring.namespace: "monitoring.namespace"}
    if cluster.egress_proxy.enabled:
        names[cluster.egress_proxy.namespace] = "egressProxy.namespace"
    return names


def _tenant_name_problems(config: StackConfig) -> Iterator[str]:
    seen: dict[str, int] = {}
    platform = _platform_namespaces(config)
    for i, tenant in enumerate(config.tenants):
        path = f"{TENANTS}[{i}].name"
        if tenant.name in seen:
            yield f"{path}: duplicate tenant '{tenant.name}' (first at {TENANTS}[{seen[tenant.name]}])"
        seen.setdefault(tenant.name, i)
        if tenant.name in RESERVED_NAMESPACES:
            yield f"{path}: '{tenant.name}' is a namespace Kubernetes reserves; tenants need a namespace of their own"
        elif tenant.name.startswith("kube-"):
            yield f"{path}: '{tenant.name}': the 'kube-' prefix is reserved for Kubernetes system namespaces"
        elif tenant.name in platform:
            yield f"{path}: '{tenant.name}' is the platform namespace of {CLUSTER}.{platform[tenant.name]}"


# Groups Kubernetes puts every (or every anonymous) requester in: as owners they would make everyone an admin.
EVERYONE_GROUPS = {
    "system:authenticated": "every authenticated user and service account",
    "system:unauthenticated": "every anonymous (unauthenticated) request",
    "system:serviceaccounts": "every service account of every namespace",
}
SYSTEM_PREFIX = "system:"


def _tenant_problems(config: StackConfig, index: int, tenant: TenantConfig) -> Iterator[str]:
    path = f"{TENANTS}[{index}]"
    owners_seen: set[str] = set()
    for j, owner in enumerate(tenant.owners):
        if not owner.strip():
            yield f"{path}.owners[{j}]: must name a group"
        elif owner in owners_seen:
            yield f"{path}.owners[{j}]: duplicate owner '{owner}'"
        elif owner in EVERYONE_GROUPS:
            yield (f"{path}.owners[{j}]: '{owner}' is the group of {EVERYONE_GROUPS[owner]}: as an owner it would "
                   f"make all of them admins of namespace '{tenant.name}'; name the tenant's own group")
        owners_seen.add(owner)
    app_seen: dict[str, int] = {}
    for j, app in enumerate(tenant.apps):
        app_path = f"{path}.apps[{j}]"
        if app.name in app_seen:
            yield f"{app_path}.name: duplicate app '{app.name}' in tenant '{tenant.name}' (first at {path}.apps[{app_seen[app.name]}])"
        app_seen.setdefault(app.name, j)
        yield from _app_problems(config, tenant, app, app_path)
    yield from _quota_problems(tenant, path)


def _app_problems(config: StackConfig, tenant: TenantConfig, app: App, path: str) -> Iterator[str]:
    statefulset = f"{app.name}-database"
    if len(statefulset) > MAX_STATEFULSET_NAME:
        yield (
            f"{path}.name: '{app.name}' is too long: its StatefulSet '{statefulset}' would have {len(statefulset)} "
            f"characters, Kubernetes allows {MAX_STATEFULSET_NAME} (at most {MAX_STATEFULSET_NAME - len('-database')} for the app name)"
        )
    for tier in ("frontend", "backend", "database"):
        config_tier = getattr(app, tier)
        yield from _mount_problems(f"{path}.{tier}", config_tier.writable_paths,
                                   config_tier.data_path if tier == "database" else None)
    for tier in ("frontend", "backend", "database"):
        if getattr(app, tier).port == app.metrics_port:
            yield (
                f"{path}.metricsPort: {app.metrics_port} is also {tier}.port; monitoring may reach the metrics port "
                "only, so it must differ from every serving port"
            )
    if app.backend.internet_egress and not config.cluster.egress_proxy.enabled:
        yield f"{path}.backend.internetEgress: needs {CLUSTER}.egressProxy.enabled: true (egress goes only via the proxy)"
    if app.frontend.load_balancer:
        yield from _overlaps(f"{path}.frontend.loadBalancer.sourceRanges", app.frontend.load_balancer.source_ranges)
    yield from _consumer_problems(config, tenant, app, path)


def _consumer_problems(config: StackConfig, tenant: TenantConfig, app: App, path: str) -> Iterator[str]:
    tenants = {t.name: t for t in config.tenants}
    seen: set[tuple[str, str, str]] = set()
    for k, consumer in enumerate(app.consumers):
        where = f"{path}.consumers[{k}]"
        key = (consumer.tenant, consumer.app, consumer.tier)
        if key in seen:
            yield f"{where}: duplicate consumer {consumer.tenant}/{consumer.app} ({consumer.tier})"
        seen.add(key)
        if consumer.tenant == tenant.name and consumer.app == app.name:
            yield f"{where}: an app cannot be a consumer of itself (its frontend already reaches its backend)"
        elif consumer.tenant not in tenants:
            yield f"{where}.tenant: no tenant named '{consumer.tenant}' (tenants: {', '.join(sorted(tenants))})"
        elif consumer.app not in {a.name for a in tenants[consumer.tenant].apps}:
            apps = sorted(a.name for a in tenants[consumer.tenant].apps) or ["none"]
            yield f"{where}.app: tenant '{consumer.tenant}' has no app named '{consumer.app}' (apps: {', '.join(apps)})"


def _quota_problems(tenant: TenantConfig, path: str) -> Iterator[str]:
    """Pods beyond the quota are refused by the API server at scale-up: say so at review time instead."""
    cpu = memory = storage = Fraction(0)
    pods = 0
    for app in tenant.apps:
        for tier in (app.frontend, app.backend, app.database):
            cpu += parse_quantity(tier.resources.effective("cpu")[1]) * tier.replicas
            memory += parse_quantity(tier.resources.effective("memory")[1]) * tier.replicas
            pods += tier.replicas
        storage += parse_quantity(app.database.storage) * app.database.replicas
    quota = tenant.quota
    for key, used, binary in (("cpu", cpu, False), ("memory", memory, True), ("storage", storage, True)):
        limit = parse_quantity(getattr(quota, key))
        if used > limit:
            yield (
                f"{path}.quota.{key}: apps need {format_quantity(used, binary)} ({'limits' if key != 'storage' else 'volume claims'}"
                f" x replicas) but the quota is {getattr(quota, key)}"
            )
    if pods > quota.pods:
        yield f"{path}.quota.pods: apps run {pods} pods but the quota is {quota.pods}"
    for j, app in enumerate(tenant.apps):
        for tier_name in ("frontend", "backend", "database"):
            resources = getattr(app, tier_name).resources
            for key in ("cpu", "memory"):
                request, limit = resources.effective(key)
                if parse_quantity(request) > parse_quantity(limit):
                    given = getattr(resources.limits, key) is not None
                    yield (
                        f"{path}.apps[{j}].{tier_name}.resources.requests.{key}: {request} exceeds "
                        + (f"limits.{key} {limit}" if given else
                           f"the namespace's default limit {limit} (no limits.{key} given, so the LimitRange's "
                           "default applies and the API server would refuse the pod)")
                    )


def owner_warnings(config: StackConfig) -> list[str]:
    """Owners that are other Kubernetes system names (`system:masters`, `system:serviceaccounts:<ns>`, ...):
    allowed, but rarely meant as a tenant's admins."""
    out = []
    for i, tenant in enumerate(config.tenants):
        for j, owner in enumerate(tenant.owners):
            if owner.startswith(SYSTEM_PREFIX) and owner not in EVERYONE_GROUPS:
                out.append(f"{TENANTS}[{i}].owners[{j}]: '{owner}' is a Kubernetes system name ('system:' is "
                           f"reserved for Kubernetes' own users and groups); binding it to the admin role of "
                           f"namespace '{tenant.name}' is rarely meant")
    return out
