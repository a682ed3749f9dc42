"""What the e2e-kind job feeds its probe: the kind overrides of the stack files, and the render -> matrix -> probe
hand-over run exactly as the workflow runs it (so a change in the matrix JSON or in endpoint names breaks here,
not at 3 a.m. on the nightly cluster)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from e2e import kind_overrides, probe
from stackconfig import parse_config, read_stack_file
from tests.paths import REPO_ROOT

STACKS = ("dev", "staging", "prod")
# Must match the ports the probe step of .github/workflows/e2e-kind.yml asks the matrix for.
PROBE_PORTS = ("8080/TCP", "5432/TCP", "8000/TCP", "9090/TCP")


def _overridden(stack: str, tmp_path: Path) -> Path:
    original = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(original))
    assert kind_overrides.main([str(path)]) == 0
    return path


@pytest.mark.parametrize("stack", STACKS)
def test_overrides_replace_only_what_kind_cannot_run(stack, tmp_path):
    original = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    rewritten = yaml.safe_load(_overridden(stack, tmp_path).read_text())

    tiers_seen = 0
    for tenant, new_tenant in zip(original["config"]["tenancy:tenants"], rewritten["config"]["tenancy:tenants"]):
        for app, new_app in zip(tenant["apps"], new_tenant["apps"]):
            for tier in kind_overrides.TIERS:
                new = new_app[tier]
                old = app.get(tier, {})
                port = old.get("port", kind_overrides.DEFAULT_PORTS[tier])
                assert new["image"] == kind_overrides.LISTENER_IMAGE
                assert new["env"][kind_overrides.LISTENER_PORT_ENV] == str(port)
                assert "passwordSecret" not in new and "loadBalancer" not in new
                # Everything that shapes a flow is untouched.
                for key in ("port", "internetEgress"):
                    assert new.get(key) == old.get(key)
                tiers_seen += 1
            assert new_app.get("consumers") == app.get("consumers")
            assert new_app.get("metricsPort") == app.get("metricsPort")
        assert {k: v for k, v in new_tenant.items() if k != "apps"} == {k: v for k, v in tenant.items() if k != "apps"}
    assert tiers_seen >= 3

    proxy = rewritten["config"]["tenancy:cluster"]["egressProxy"]
    assert (proxy["image"], proxy["port"]) == (kind_overrides.PROXY_IMAGE, kind_overrides.PROXY_PORT)
    old_proxy = original["config"]["tenancy:cluster"].get("egressProxy", {})
    assert proxy.get("clusterCidrs") == old_proxy.get("clusterCidrs")


@pytest.mark.parametrize("stack", STACKS)
def test_overridden_stacks_are_still_valid_config(stack, tmp_path):
    parsed = parse_config(read_stack_file(_overridden(stack, tmp_path)).namespace_values())
    assert parsed is not None


def test_overrides_leave_a_disabled_proxy_disabled():
    document = {"config": {"tenancy:cluster": {"cni": "calico", "egressProxy": {"enabled": False}},
                           "tenancy:tenants": []}}
    assert kind_overrides.runnable_on_kind(document)["config"]["tenancy:cluster"]["egressProxy"] == {"enabled": False}
    assert document["config"]["tenancy:cluster"]["egressProxy"] == {"enabled": False}  # input untouched


def test_probe_accepts_what_the_workflow_predicts(tmp_path):
    """render + matrix as in e2e-kind.yml, then the probe's own input parsing over the same files."""
    _overridden("dev", tmp_path)
    build = tmp_path / "build"
    monitoring = REPO_ROOT / "e2e" / "monitoring.yaml"
    subprocess.run([sys.executable, "-m", "tenancy", "render", "--stack", "dev", "--config-dir", str(tmp_path),
                    "--out", str(build)], cwd=REPO_ROOT, check=True, capture_output=True)
    ports = [arg for port in PROBE_PORTS for arg in ("--port", port)]
    matrix = subprocess.run([sys.executable, "-m", "tenancy", "matrix", str(build), str(monitoring), *ports, "--json"],
                            cwd=REPO_ROOT, check=True, capture_output=True, text=True)

    cases, skipped = probe.load_prediction(json.loads(matrix.stdout))
    workloads = probe.load_workloads([build, monitoring])
    assert skipped == []
    assert {c.src for c in cases} | {c.dst for c in cases} <= set(workloads)
    allowed = {(f"{c.port}/{c.protocol}", c.src, c.dst) for c in cases if c.expected}
    # Each probed port carries at least one allowed flow, so the probe can fail on a closed dataplane too.
    assert {port for port, _, _ in allowed} == set(PROBE_PORTS)
    assert ("9090/TCP", "monitoring/prometheus", "acme/shop-database") in allowed
    assert ("8080/TCP", "acme/shop-backend", "egress-proxy/egress-proxy") in allowed
    # The stand-ins resolve the named metrics port like the real pods: it is declared on them.
    database = workloads["acme/shop-database"]
    assert {"name": "metrics", "containerPort": 9090, "protocol": "TCP"} in database.ports


def test_workflow_probes_the_ports_this_test_checks():
    workflow = (REPO_ROOT / ".github" / "workflows" / "e2e-kind.yml").read_text()
    for port in PROBE_PORTS:
        assert f"--port {port}" in workflow
