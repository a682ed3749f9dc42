"""The ten seed scenarios (docs/scenarios.md) with real packets: the dev and staging renders on a lab each, with DNS,
Prometheus and an intruder around them, kube-router enforcing the NetworkPolicies. Every expectation is derived
from the stack's config (what the platform team declared), never from the engine; `lab verify` then shows the
engine agrees with the dataplane on every flow."""

from __future__ import annotations

from analysis.checks.cluster_context import dns_endpoint, monitoring_endpoint
from stackconfig import StackConfig
from tenancy.cli import main as cli
from tenancy.lab import apply as lab_apply
from tenancy.lab import verify
from tenancy.lab.state import LabState
from tenancy.render import to_yaml
from tests.lab.stacks import EXTERNALS, StackLab
from analysis.checks.proof import INTRUDER

TIERS = ("frontend", "backend", "database")


def _apps(config: StackConfig):
    for tenant in config.tenants:
        for app in tenant.apps:
            yield tenant, app


def _tenant_workloads(lab: StackLab) -> list[str]:
    tenants = {t.name for t in lab.config.tenants}
    return [w for w in lab.workloads if w.split("/")[0] in tenants]


def _verify(lab: StackLab) -> verify.Report:
    return verify.verify(lab.workdir, lab.paths, externals=list(EXTERNALS))


def test_dev_render_verifies_flow_by_flow(dev_lab):
    report = _verify(dev_lab)
    assert not report.disagreements, [o.line() for o in report.disagreements][:5]
    assert not report.deviations, [o.line() for o in report.deviations][:5]
    # 10 workloads and 4 outside addresses: 10*9 + 2*10*4 pairs, on every declared port and one undeclared each.
    assert len(report.outcomes) >= 170 * 8
    assert {o.lab for o in report.outcomes} == {"allow", "deny"}


def test_staging_render_verifies_flow_by_flow(staging_lab):
    report = _verify(staging_lab)
    assert not report.disagreements, [o.line() for o in report.disagreements][:5]
    assert not report.deviations, [o.line() for o in report.deviations][:5]
    assert len(report.outcomes) > len(staging_lab.workloads) ** 2


def test_scenario_01_default_behaviour(dev_lab):
    # Before any policy, every pod reached every pod, on a port nobody declared as well as on the database port.
    assert dev_lab.before and set(dev_lab.before.values()) == {"allow"}
    # With the render's policies, the same pairs get what the config declares and nothing more: on 5432 only a
    # backend reaches its own database (among pairs touching the program's namespaces; DNS, monitoring and the
    # intruder have no policies of their own).
    owned = {t.name for t in dev_lab.config.tenants} | {dev_lab.config.cluster.egress_proxy.namespace}
    after = dev_lab.probe(dev_lab.before)
    allowed = {(s, d) for (s, d, p), v in after.items() if v == "allow" and p == "5432/TCP"
               and owned & {s.split("/")[0], d.split("/")[0]}}
    assert allowed == {(f"{t.name}/{a.name}-backend", f"{t.name}/{a.name}-database") for t, a in _apps(dev_lab.config)
                       if a.database.port == 5432}


def test_scenario_02_restrict_db(dev_lab):
    for tenant, app in _apps(dev_lab.config):
        database, port = f"{tenant.name}/{app.name}-database", f"{app.database.port}/TCP"
        seen = dev_lab.probe([(f"{tenant.name}/{app.name}-backend", database, port),
                              (f"{tenant.name}/{app.name}-frontend", database, port),
                              (INTRUDER, database, port),
                              (monitoring_endpoint(dev_lab.config.cluster), database, f"{app.metrics_port}/TCP")])
        assert list(seen.values()) == ["allow", "deny", "deny", "allow"], seen


def test_scenario_03_namespace_isolation(dev_lab):
    ports = sorted({f"{p}/TCP" for _, a in _apps(dev_lab.config)
                    for p in (a.frontend.port, a.backend.port, a.database.port, a.metrics_port)})
    seen = dev_lab.probe((INTRUDER, w, p) for w in _tenant_workloads(dev_lab) for p in ports)
    assert set(seen.values()) == {"deny"}, [f for f, v in seen.items() if v != "deny"]
    # The one declared consumer crosses the boundary, one way.
    assert dev_lab.verdict("globex/portal-backend", "acme/shop-backend", "8080/TCP") == "allow"
    assert dev_lab.verdict("acme/shop-backend", "globex/portal-backend", "8000/TCP") == "deny"


def test_scenario_04_egress_only_via_proxy(dev_lab):
    proxy_cfg = dev_lab.config.cluster.egress_proxy
    proxy, proxy_port = f"{proxy_cfg.namespace}/egress-proxy", f"{proxy_cfg.port}/TCP"
    web = ("80/TCP", "443/TCP")
    seen = dev_lab.probe((w, f"ip:{a}", p) for w in _tenant_workloads(dev_lab) for a in EXTERNALS for p in web)
    assert set(seen.values()) == {"deny"}, [f for f, v in seen.items() if v != "deny"]
    for tenant, app in _apps(dev_lab.config):
        backend = f"{tenant.name}/{app.name}-backend"
        assert dev_lab.verdict(backend, proxy, proxy_port) == ("allow" if app.backend.internet_egress else "deny")
        assert dev_lab.verdict(f"{tenant.name}/{app.name}-frontend", proxy, proxy_port) == "deny"
    # The proxy reaches the internet on web ports, and neither a private range nor the metadata endpoint.
    assert dev_lab.probe([(proxy, "ip:192.0.2.10", p) for p in web]) == {
        (proxy, "ip:192.0.2.10", p): "allow" for p in web}
    for private in ("10.250.0.10", "169.254.169.254"):
        assert set(dev_lab.probe([(proxy, f"ip:{private}", p) for p in web]).values()) == {"deny"}, private
    assert dev_lab.verdict(proxy, "ip:192.0.2.10", "22/TCP") == "deny"


def test_scenario_05_zero_trust(dev_lab):
    """A compromised tenant pod reaches, on the lab, exactly the destinations its tier is declared to reach."""
    config = dev_lab.config
    dns = dns_endpoint(config.cluster)
    everyone = [w for w in dev_lab.workloads if w != INTRUDER]
    for tenant, app in _apps(config):
        for tier in TIERS:
            source = f"{tenant.name}/{app.name}-{tier}"
            ports = {f"{p}/TCP" for p in (app.frontend.port, app.backend.port, app.database.port,
                                          app.metrics_port, config.cluster.egress_proxy.port)}
            ports |= {f"{config.cluster.dns.port}/UDP", f"{config.cluster.dns.port}/TCP"}
            seen = dev_lab.probe((source, d, p) for d in everyone if d != source for p in sorted(ports))
            reached = {d for (_, d, _), v in seen.items() if v == "allow"}
            expected = {dns}
            if tier == "frontend":
                expected.add(f"{tenant.name}/{app.name}-backend")
            elif tier == "backend":
                expected.add(f"{tenant.name}/{app.name}-database")
                if app.backend.internet_egress:
                    expected.add(f"{config.cluster.egress_proxy.namespace}/egress-proxy")
            # Another app's backend, where that app names this tier of this app as a consumer.
            expected |= {f"{t.name}/{a.name}-backend" for t, a in _apps(config) for c in a.consumers
                         if (c.tenant, c.app, c.tier) == (tenant.name, app.name, tier)}
            assert reached == expected, source


def test_scenario_06_per_customer_isolation(dev_lab):
    tenants = {t.name for t in dev_lab.config.tenants}
    ports = ("8080/TCP", "8000/TCP", "5432/TCP", "9090/TCP")
    pairs = [(s, d) for s in _tenant_workloads(dev_lab) for d in _tenant_workloads(dev_lab)
             if s.split("/")[0] != d.split("/")[0] and {s.split("/")[0], d.split("/")[0]} <= tenants]
    seen = dev_lab.probe((s, d, p) for s, d in pairs for p in ports)
    assert {f for f, v in seen.items() if v == "allow"} == {("globex/portal-backend", "acme/shop-backend", "8080/TCP")}


def test_scenario_07_debugging(dev_lab, capsys):
    """`explain` answers the question "why can't the frontend reach the database?" and the lab shows the same."""
    render_dir = dev_lab.paths[0]
    assert cli(["explain", render_dir, "--from", "acme/shop-frontend", "--to", "acme/shop-database",
                "--port", "5432/TCP"]) == 0
    denied = capsys.readouterr().out
    assert "DENIED" in denied.upper() and "shop-backend-to-database" in denied
    assert dev_lab.verdict("acme/shop-frontend", "acme/shop-database", "5432/TCP") == "deny"
    assert cli(["explain", render_dir, "--from", "acme/shop-backend", "--to", "acme/shop-database",
                "--port", "5432/TCP"]) == 0
    assert "acme/shop-backend-to-database-ingress" in capsys.readouterr().out
    assert dev_lab.verdict("acme/shop-backend", "acme/shop-database", "5432/TCP") == "allow"


def test_scenario_08_cni_support(dev_lab, tmp_path):
    """Is every policy enforced? On this CNI the NetworkPolicies are, the cluster-scoped ones are not. A tenant
    owner plants an allow-everything NetworkPolicy in globex: the Admin-tier policies the engine reads still keep
    other tenants, the intruder and the internet out, but kube-router lets them in - and `verify` names exactly those
    flows as the documented deviation instead of calling the tenant safe."""
    widening = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "allow-everything", "namespace": "globex"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}], "egress": [{}]}}
    (tmp_path / "widening.yaml").write_text(to_yaml([widening]))
    lab_apply.apply(dev_lab.workdir, [widening])
    try:
        report = verify.verify(dev_lab.workdir, [*dev_lab.paths, str(tmp_path)], externals=list(EXTERNALS))
    finally:
        lab_apply.Kubectl(LabState.load(dev_lab.workdir))("delete", "networkpolicy", "-n", "globex",
                                                          "allow-everything")
        lab_apply.apply(dev_lab.workdir, [])  # wait for kube-router to drop it again
    assert not report.disagreements, [o.line() for o in report.disagreements][:5]
    flows = {(o.source, o.destination) for o in report.deviations}
    assert {(INTRUDER, "globex/portal-database"), ("globex/portal-backend", "ip:192.0.2.10")} <= flows
    # What no cluster policy can say: the cluster-policy API has no address peer for ingress, so the internet's way
    # into a widened tenant is open on both sides (`check` reports it as frontend-external-ingress).
    internet_in = [o for o in report.outcomes if (o.source, o.destination) == ("ip:192.0.2.10", "globex/portal-frontend")]
    assert internet_in and all(o.agrees and o.lab == "allow" for o in internet_in)
    for outcome in report.deviations:
        assert outcome.deviation == "cluster-policies-not-enforced", outcome.line()
        assert (outcome.engine, outcome.lab) == ("deny", "allow"), outcome.line()
        assert "globex" in (outcome.source.split("/")[0], outcome.destination.split("/")[0]), outcome.line()
    # Within globex the tenant is free, and both agree the planted policy opens it.
    inside = [o for o in report.outcomes if o.source.startswith("globex/") and o.destination.startswith("globex/")]
    assert inside and all(o.agrees and o.lab == "allow" for o in inside)
    assert dev_lab.verdict(INTRUDER, "globex/portal-database", "5432/TCP") == "deny"  # restored


def test_scenario_09_external_lb_traffic(dev_lab):
    inside, outside = "ip:203.0.113.7", "ip:192.0.2.10"
    seen = dev_lab.probe([(inside, "acme/shop-frontend", "8080/TCP"), (inside, "acme/shop-backend", "8080/TCP"),
                          (outside, "acme/shop-frontend", "8080/TCP"), (inside, "globex/portal-frontend", "8080/TCP"),
                          (inside, "acme/shop-frontend", "9999/TCP")])
    assert list(seen.values()) == ["allow", "deny", "deny", "deny", "deny"], seen
    kubectl = lab_apply.Kubectl(LabState.load(dev_lab.workdir))
    service = kubectl.json("service", "-n", "acme", "shop-frontend")
    assert service["spec"]["type"] == "LoadBalancer" and service["status"]["loadBalancer"]["ingress"][0]["ip"]


def test_scenario_10_monitoring(staging_lab):
    """Staging's apps expose metrics on different ports: Prometheus scrapes each pod on its own port only."""
    prometheus = monitoring_endpoint(staging_lab.config.cluster)
    ports = {a.metrics_port for _, a in _apps(staging_lab.config)}
    assert len(ports) > 1
    flows = [(prometheus, f"{t.name}/{a.name}-{tier}", f"{p}/TCP")
             for t, a in _apps(staging_lab.config) for tier in TIERS for p in sorted(ports)]
    seen = staging_lab.probe(flows)
    metrics = {(t.name, a.name): a.metrics_port for t, a in _apps(staging_lab.config)}
    for (_, dst, port), verdict in seen.items():
        tenant, _, rest = dst.partition("/")
        app = rest.rsplit("-", 1)[0]
        assert verdict == ("allow" if port == f"{metrics[(tenant, app)]}/TCP" else "deny"), (dst, port)
    assert set(staging_lab.probe((INTRUDER, dst, p) for _, dst, p in flows).values()) == {"deny"}
