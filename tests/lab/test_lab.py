"""A real control plane and kube-router enforcing the policies of tests/lab/manifests: probes see what the policies
say, for TCP, UDP and SCTP, pods and outside addresses; workloads of every kind come up."""

from __future__ import annotations

import json
import subprocess
import sys

from tenancy.lab import apply as lab_apply
from tenancy.lab import probe, status
from tests.conftest import REPO_ROOT

# (from, to, port, verdict) under tests/lab/manifests
EXPECTED = [
    ("beta/client", "alpha/web", "8080/TCP", "allow"),
    ("beta/client", "alpha/web", "8081/TCP", "deny"),
    ("beta/client", "alpha/web", "5353/UDP", "allow"),
    ("beta/client", "alpha/web", "5354/UDP", "deny"),
    ("beta/client", "alpha/web", "9999/SCTP", "allow"),
    ("beta/client", "alpha/web", "9998/SCTP", "deny"),
    ("beta/other", "alpha/web", "8080/TCP", "deny"),
    ("beta/agent", "alpha/web", "8080/TCP", "deny"),
    ("beta/client", "alpha/db", "5432/TCP", "deny"),
    ("alpha/web", "alpha/db", "5432/TCP", "deny"),
    ("alpha/web", "alpha/web", "8080/TCP", "deny"),
    ("alpha/web", "beta/client", "80/TCP", "allow"),
    ("alpha/db", "beta/other", "53/UDP", "allow"),
    ("beta/client", "beta/other", "7/SCTP", "allow"),
    ("ip:203.0.113.9", "alpha/web", "8080/TCP", "allow"),  # named port http, inside the ipBlock
    ("ip:203.0.113.9", "alpha/web", "8081/TCP", "deny"),
    ("ip:203.0.113.200", "alpha/web", "8080/TCP", "deny"),  # in the except
    ("ip:203.0.113.9", "beta/client", "80/TCP", "allow"),
    ("beta/client", "ip:198.51.100.77", "443/TCP", "allow"),
    ("alpha/web", "ip:198.51.100.77", "53/UDP", "allow"),
]


def _requests():
    return [{"from": a, "to": b, "port": p} for a, b, p, _ in EXPECTED]


def test_probes_match_the_policies(lab_workdir):
    answers = probe.Lab(lab_workdir).probe_batch(_requests())
    got = [(a["from"], a["to"], a["port"], a.get("verdict", a.get("error"))) for a in answers]
    assert got == EXPECTED


def test_probe_cli_single_and_batch(lab_workdir):
    cmd = [sys.executable, "-m", "tenancy", "lab", "probe", str(lab_workdir)]
    single = subprocess.run([*cmd, "--from", "beta/client", "--to", "alpha/web", "--port", "8080/TCP"],
                            capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert (single.returncode, single.stdout) == (0, "allow\n"), single.stderr
    lines = "".join(json.dumps(r) + "\n" for r in _requests())
    batch = subprocess.run([*cmd, "--batch", "-"], input=lines, capture_output=True, text=True, cwd=REPO_ROOT,
                           check=False)
    assert batch.returncode == 0, batch.stderr
    answers = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [a["verdict"] for a in answers] == [e[3] for e in EXPECTED]
    assert all(set(a) == {"from", "to", "port", "verdict"} for a in answers)


def test_unknown_endpoint_is_an_error_not_a_verdict(lab_workdir):
    [answer] = probe.Lab(lab_workdir).probe_batch([{"from": "beta/nobody", "to": "alpha/web", "port": "80/TCP"}])
    assert "verdict" not in answer and "no Ready pod" in answer["error"]


def test_workloads_of_every_kind_are_ready(lab_workdir):
    lab = probe.Lab(lab_workdir)
    for endpoint, count in (("alpha/web", 2), ("alpha/db", 2), ("beta/client", 1), ("beta/other", 1),
                            ("beta/agent", 1)):
        assert len(lab.pods_of(endpoint)) == count, endpoint
    kubectl = lab_apply.Kubectl(lab.state)
    claims = kubectl.json("pvc", "-n", "alpha")["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["data-db-0", "data-db-1"]
    assert {c["status"]["phase"] for c in claims} == {"Bound"}
    svc = kubectl.json("service", "-n", "alpha", "web")
    assert svc["status"]["loadBalancer"]["ingress"][0]["ip"].startswith("198.51.100.")


def test_status_reports_a_healthy_lab(lab_workdir):
    info = status.collect(lab_workdir)
    assert info["healthy"], info
    assert set(info["processes"]) == {"etcd", "kube-apiserver", "kube-controller-manager", "node-agent",
                                      "kube-router"}


def test_a_policy_change_is_enforced_after_apply(lab_workdir):
    """New egress isolation of beta: what was allowed is denied after the next apply (conntrack flushed)."""
    lab = probe.Lab(lab_workdir)
    flow = [{"from": "beta/client", "to": "ip:198.51.100.77", "port": "443/TCP"},
            {"from": "beta/client", "to": "alpha/web", "port": "8080/TCP"}]
    assert [a["verdict"] for a in lab.probe_batch(flow)] == ["allow", "allow"]
    deny_egress = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                   "metadata": {"name": "deny-egress", "namespace": "beta"},
                   "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
    lab_apply.apply(lab_workdir, [deny_egress])
    try:
        assert [a["verdict"] for a in lab.probe_batch(flow)] == ["deny", "deny"]
    finally:
        lab_apply.Kubectl(lab.state)("delete", "networkpolicy", "-n", "beta", "deny-egress")
        lab_apply.apply(lab_workdir, [])
    assert [a["verdict"] for a in lab.probe_batch(flow)] == ["allow", "allow"]
