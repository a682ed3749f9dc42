"""hostNetwork pods: NetworkPolicy does not apply to them (never isolated, whatever selects them) and their traffic
carries their node's address, so pod and namespace selectors never match them and only an ipBlock holding a node
address does. The output says so, and `check` flags one in a tenant namespace."""

from __future__ import annotations

import pytest
import yaml

from analysis.checks.invariants import check
from analysis.reachability import Engine, load_objects
from tenancy.cli import main

from tests.live_export import export, netpol, pod

NODE_AGENT = {"hostNetwork": True, "containers": [{"name": "agent", "image": "agent",
                                                   "ports": [{"name": "metrics", "containerPort": 9100}]}]}


def _cluster(extra: list[dict]) -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "infra"}},
        pod("app", "web", {"app": "web"}),
        pod("infra", "agent", {"app": "agent"}, NODE_AGENT),  # status: podIP = hostIP = the node's address
        netpol("app", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        netpol("infra", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        *extra,
    ]


def test_policies_do_not_isolate_a_host_network_pod():
    engine = Engine(load_objects(_cluster([])))
    # default deny in infra selects the agent, but cannot isolate it: it still sends and receives
    verdict = engine.verdict("infra/agent", "ip:203.0.113.9", 443)
    assert verdict.allowed and verdict.egress.host_network
    assert not engine.verdict("app/web", "infra/agent", 9100).allowed  # web's own egress is denied
    assert engine.verdict("ip:203.0.113.9", "infra/agent", 9100).allowed


def test_a_pod_selector_does_not_admit_a_host_network_pod_but_a_node_ipblock_does():
    admit_by_labels = netpol("app", "from-agent", {"podSelector": {"matchLabels": {"app": "web"}},
                                                   "ingress": [{"from": [{"namespaceSelector": {},
                                                                          "podSelector": {"matchLabels": {"app": "agent"}}}]}]})
    engine = Engine(load_objects(_cluster([admit_by_labels])))
    verdict = engine.verdict("infra/agent", "app/web", 8080)
    assert not verdict.allowed
    assert "hostNetwork" in " ".join(verdict.closest_miss.reasons)  # type: ignore[union-attr]
    admit_node = netpol("app", "from-nodes", {"podSelector": {"matchLabels": {"app": "web"}},
                                              "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/24"}}]}]})
    engine = Engine(load_objects(_cluster([admit_node])))
    assert engine.verdict("infra/agent", "app/web", 8080).allowed


def test_the_output_says_how_a_host_network_pod_is_modelled(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump_all(_cluster([])))
    assert main(["explain", str(path), "--from", "infra/agent", "--to", "ip:203.0.113.9", "--port", "443/TCP"]) == 0
    out, err = capsys.readouterr()
    assert "runs with hostNetwork; NetworkPolicy does not apply to it" in out
    assert ("note: infra/agent runs with hostNetwork: NetworkPolicy does not apply to it (never isolated) and its "
            "traffic carries its node's address (10.0.0.5)") in err


@pytest.mark.parametrize("with_stack", [True, False])
def test_check_flags_a_host_network_workload_in_a_tenant_namespace(dev, with_stack):
    from stackconfig import parse_config, read_stack_file
    from pathlib import Path

    objects = export(dev.manifests())
    objects.append(pod("globex", "node-debugger", {"run": "node-debugger"}, NODE_AGENT))
    config = None
    if with_stack:
        stack = Path(__file__).resolve().parents[3] / "Pulumi.dev.yaml"
        config = parse_config(read_stack_file(stack).namespace_values()).config
    found = [v for v in check(objects, config) if v.rule == "tenant-host-network"]
    assert [v.subject for v in found] == ["Pod globex/node-debugger"]
    assert "no NetworkPolicy isolates it" in found[0].why
