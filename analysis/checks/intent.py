"""Every flow a stack config declares: (source endpoint, destination endpoint) -> the PortSet it may use."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Sequence

from policies.egress_proxy import ALWAYS_EXCLUDED
from kube.endpoints import Endpoint, Network
from kube.labels import PROXY_NAME, workload_name
from analysis.checks.cluster_context import dns_endpoint, monitoring_endpoint
from analysis.reachability import PortSet
from stackconfig.models import StackConfig

Flows = dict[tuple[str, str], PortSet]

# Addresses no config declares: a public one the proxy may reach, and private ones nothing may reach.
PUBLIC_PROBES = ("192.0.2.10", "2001:db8::10")
PRIVATE_PROBES = ("10.250.0.10", "192.168.250.10", "169.254.169.254")


def program_namespaces(config: StackConfig) -> set[str]:
    names = {t.name for t in config.tenants}
    if config.cluster.egress_proxy.enabled:
        names.add(config.cluster.egress_proxy.namespace)
    return names


def probe_addresses(config: StackConfig) -> list[str]:
    """External addresses worth asking about: one inside each declared LB range, plus undeclared public and
    private ones."""
    addresses = list(PUBLIC_PROBES) + list(PRIVATE_PROBES)
    for tenant in config.tenants:
        for app in tenant.apps:
            if app.frontend.load_balancer:
                for network in app.frontend.load_balancer.source_ranges:
                    addresses.append(str(network.network_address + (1 if network.num_addresses > 1 else 0)))
    return sorted(set(addresses))


def _internet(address: str, cluster_cidrs: Sequence[Network]) -> bool:
    ip = ipaddress.ip_address(address)
    return not any(ip in c for c in (*cluster_cidrs, *ALWAYS_EXCLUDED) if c.version == ip.version)


def declared_flows(config: StackConfig, externals: list[str]) -> Flows:
    """Flows the config declares, among the program's workloads, DNS, monitoring and the given addresses."""
    cluster = config.cluster
    proxy = cluster.egress_proxy
    proxy_endpoint = f"{proxy.namespace}/{PROXY_NAME}"
    flows: Flows = defaultdict(PortSet)
    dns = PortSet.of(("UDP", "TCP"), cluster.dns.port)
    if proxy.enabled:
        flows[(proxy_endpoint, dns_endpoint(cluster))] |= dns
        for address in externals:
            if _internet(address, proxy.cluster_cidrs):
                flows[(proxy_endpoint, _address(address))] |= PortSet.of("TCP", *proxy.internet_ports)
    for tenant in config.tenants:
        for app in tenant.apps:
            def ep(tier: str, ns: str = tenant.name, name: str = app.name) -> str:
                return f"{ns}/{workload_name(name, tier)}"

            for tier in ("frontend", "backend", "database"):
                flows[(ep(tier), dns_endpoint(cluster))] |= dns
                flows[(monitoring_endpoint(cluster), ep(tier))] |= PortSet.of("TCP", app.metrics_port)
            flows[(ep("frontend"), ep("backend"))] |= PortSet.of("TCP", app.backend.port)
            flows[(ep("backend"), ep("database"))] |= PortSet.of("TCP", app.database.port)
            if app.backend.internet_egress:
                flows[(ep("backend"), proxy_endpoint)] |= PortSet.of("TCP", proxy.port)
            if app.frontend.load_balancer:
                ranges = app.frontend.load_balancer.source_ranges
                for address in externals:
                    if any(ipaddress.ip_address(address) in r for r in ranges):
                        flows[(_address(address), ep("frontend"))] |= PortSet.of("TCP", app.frontend.port)
            for consumer in app.consumers:
                flows[(ep(consumer.tier, consumer.tenant, consumer.app), ep("backend"))] |= PortSet.of(
                    "TCP", app.backend.port)
    return dict(flows)


def _address(address: str) -> str:
    return str(Endpoint.of_address(ipaddress.ip_address(address)))
