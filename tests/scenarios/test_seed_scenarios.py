"""The ten seed scenarios (docs/scenarios.md), each proved with the reachability
engine over the program's own render, not by inspecting dicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.reachability import Engine, PortSet, load_objects
from kube.customresources import is_custom_resource
from stackconfig import ConfigError
from tenancy.cli import main as cli
from tenancy.render import render_stack

from analysis.checks.proof import INTRUDER

from .analysis import analyse

TCP = lambda *ports: PortSet({"TCP": [(p, p) for p in ports]})  # noqa: E731


@pytest.fixture(scope="module")
def dev_analysis(dev):
    return analyse(dev)


@pytest.fixture(scope="module")
def staging_analysis(staging):
    return analyse(staging)


def test_scenario_01_default_behaviour(dev, dev_analysis):
    # Without any NetworkPolicy (nor admin- or baseline-tier cluster policy) every pod reaches every pod, on every
    # port...
    no_policies = Engine(load_objects([m for m in dev.manifests()
                                       if m["kind"] != "NetworkPolicy" and not is_custom_resource(m)]))
    workloads = no_policies.workloads
    assert len(workloads) >= 7
    flows = no_policies.flows()
    for src in workloads:
        for dst in workloads:
            if src != dst:
                assert flows[(src, dst)].is_all, (src, dst)
    # ...and once tenants exist, their pods accept and initiate exactly what the config declares, nothing more.
    assert dev_analysis.program_flows() == dev_analysis.declared()


def test_scenario_02_restrict_db(dev_analysis):
    engine, flows = dev_analysis.engine, dev_analysis.flows
    for tenant in dev_analysis.config.tenants:
        for app in tenant.apps:
            database = f"{tenant.name}/{app.name}-database"
            callers = {src: ports for (src, dst), ports in flows.items() if dst == database}
            assert callers == {
                f"{tenant.name}/{app.name}-backend": TCP(app.database.port),
                "monitoring/prometheus": TCP(app.metrics_port),
            }
            denied = engine.verdict(f"{tenant.name}/{app.name}-frontend", database, app.database.port)
            assert not denied.allowed and not denied.ingress.allowed
            allowed = engine.verdict(f"{tenant.name}/{app.name}-backend", database, app.database.port)
            assert allowed.ingress.admitted_by.policy == f"{tenant.name}/{app.name}-backend-to-database-ingress"


def test_scenario_03_namespace_isolation(dev_analysis, tmp_path):
    engine = dev_analysis.engine
    # A pod in a namespace the program does not know, even one labelled like a backend, reaches no tenant pod.
    for workload in dev_analysis.tenant_workloads():
        assert not engine.allowed_ports(INTRUDER, workload), workload
    # The one cross-namespace flow exists only because the config names it: drop the allowance, the flow goes.
    assert engine.allowed_ports("globex/portal-backend", "acme/shop-backend") == TCP(8080)
    text = (Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml").read_text()
    without = text.replace("          consumers:\n            - {tenant: globex, app: portal, tier: backend}\n", "")
    assert without != text
    (tmp_path / "Pulumi.dev.yaml").write_text(without)
    isolated = analyse(render_stack("dev", tmp_path))
    assert not isolated.engine.allowed_ports("globex/portal-backend", "acme/shop-backend")


def test_scenario_04_egress_only_via_proxy(dev_analysis):
    engine, config = dev_analysis.engine, dev_analysis.config
    proxy = "egress-proxy/egress-proxy"
    for workload in dev_analysis.tenant_workloads():
        for address in dev_analysis.externals:
            assert not engine.allowed_ports(workload, f"ip:{address}"), (workload, address)
    for tenant in config.tenants:
        for app in tenant.apps:
            backend = f"{tenant.name}/{app.name}-backend"
            expected = TCP(config.cluster.egress_proxy.port) if app.backend.internet_egress else PortSet.empty()
            assert engine.allowed_ports(backend, proxy) == expected, backend
            assert not engine.allowed_ports(f"{tenant.name}/{app.name}-frontend", proxy)
    # The proxy reaches the internet on web ports only, and no private range, metadata endpoint or pod.
    assert engine.allowed_ports(proxy, "ip:192.0.2.10") == TCP(80, 443)
    assert engine.allowed_ports(proxy, "ip:2001:db8::10") == TCP(80, 443)
    for private in ("10.250.0.10", "192.168.250.10", "169.254.169.254"):
        assert not engine.allowed_ports(proxy, f"ip:{private}"), private
    for workload in dev_analysis.tenant_workloads():
        assert not engine.allowed_ports(proxy, workload)


def test_scenario_05_zero_trust(dev_analysis):
    """Any tenant pod, if compromised, reaches exactly what its tier is declared to reach."""
    declared = dev_analysis.declared()
    for workload in dev_analysis.tenant_workloads():
        reach = {dst: p for (src, dst), p in dev_analysis.flows.items() if src == workload}
        assert reach == {dst: p for (src, dst), p in declared.items() if src == workload}, workload
        assert reach, f"{workload} should at least resolve DNS"


def test_scenario_06_per_customer_isolation(dev_analysis):
    tenants = {t.name for t in dev_analysis.config.tenants}
    cross = {(s, d): p for (s, d), p in dev_analysis.flows.items()
             if s.split("/")[0] in tenants and d.split("/")[0] in tenants and s.split("/")[0] != d.split("/")[0]}
    # Exactly the declared consumer, in one direction only.
    assert cross == {("globex/portal-backend", "acme/shop-backend"): TCP(8080)}
    assert not dev_analysis.engine.allowed_ports("acme/shop-backend", "globex/portal-backend")
    assert not dev_analysis.engine.allowed_ports("globex/portal-frontend", "acme/shop-backend")


def test_scenario_07_debugging(dev, capsys, tmp_path):
    out = tmp_path / "dev"
    assert cli(["render", "--stack", "dev", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli(["explain", str(out), "--from", "acme/shop-backend", "--to", "acme/shop-database", "--port", "5432/TCP"]) == 0
    allowed = capsys.readouterr().out
    assert "acme/shop-backend-to-database-egress" in allowed and "acme/shop-backend-to-database-ingress" in allowed
    assert "ALLOWED" in allowed.upper()
    assert cli(["explain", str(out), "--from", "acme/shop-frontend", "--to", "acme/shop-database", "--port", "5432/TCP"]) == 0
    denied = capsys.readouterr().out
    assert "DENIED" in denied.upper()
    # The closest miss names the policy that almost admitted it and why it did not.
    assert "shop-backend-to-database" in denied and "frontend" in denied


def test_scenario_08_cni_support(tmp_path):
    base = (Path(__file__).resolve().parents[2] / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").write_text(base.replace("cni: calico", "cni: flannel"))
    with pytest.raises(ConfigError) as refused:
        render_stack("dev", tmp_path)
    assert any("does not enforce NetworkPolicy" in p for p in refused.value.problems)
    (tmp_path / "Pulumi.dev.yaml").write_text(base.replace("cni: calico", "cni: flannel\n    allowUnenforcedPolicies: true"))
    acknowledged = render_stack("dev", tmp_path)
    assert any("NOT isolated" in w for w in acknowledged.parsed.warnings)


def test_scenario_09_external_lb_traffic(dev, dev_analysis):
    engine = dev_analysis.engine
    services = {(m["metadata"]["namespace"], m["metadata"]["name"]): m["spec"] for m in dev.manifests() if m["kind"] == "Service"}
    lb = services[("acme", "shop-frontend")]
    assert lb["type"] == "LoadBalancer"
    assert lb["externalTrafficPolicy"] == "Local"
    assert lb["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    assert services[("globex", "portal-frontend")]["type"] == "ClusterIP"
    assert not any(s.get("type") == "NodePort" for s in services.values())
    # The declared range reaches the frontend on its port only; nothing else from outside gets in.
    assert engine.allowed_ports("ip:203.0.113.1", "acme/shop-frontend") == TCP(8080)
    assert not engine.allowed_ports("ip:203.0.113.1", "acme/shop-backend")
    assert not engine.allowed_ports("ip:192.0.2.10", "acme/shop-frontend")
    assert not engine.allowed_ports("ip:203.0.113.1", "globex/portal-frontend")


def test_scenario_10_monitoring(staging_analysis):
    """Staging has apps with different metrics ports: each pod is scraped on its own port and no other."""
    engine, config = staging_analysis.engine, staging_analysis.config
    ports = {app.metrics_port for t in config.tenants for app in t.apps}
    assert len(ports) > 1
    for tenant in config.tenants:
        for app in tenant.apps:
            for tier in ("frontend", "backend", "database"):
                workload = f"{tenant.name}/{app.name}-{tier}"
                assert engine.allowed_ports("monitoring/prometheus", workload) == TCP(app.metrics_port), workload
    # Prometheus is the only scraper: the intruder cannot reach a metrics port.
    assert not engine.allowed_ports(INTRUDER, "acme/shop-backend")
