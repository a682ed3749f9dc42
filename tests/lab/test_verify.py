"""`lab verify`: the engine's matrix over tests/lab/manifests agrees with real probes on the shared lab, flow by
flow; a planted disagreement (a DROP the policies do not ask for, a policy the engine reads but the lab never got)
fails it naming the flow, and a documented kube-router deviation is reported as one without failing."""

from __future__ import annotations

import subprocess
import sys

from tenancy.lab import apply as lab_apply
from tenancy.lab import build, cache, netns, verify
from tenancy.lab.state import LabState
from tests.conftest import REPO_ROOT
from tests.lab.conftest import MANIFESTS

EXTERNALS = ("203.0.113.9", "203.0.113.200", "198.51.100.77")


def _verify(workdir, *paths, externals=EXTERNALS):
    argv = [sys.executable, "-m", "tenancy", "lab", "verify", str(workdir), *map(str, paths)]
    for address in externals:
        argv += ["--external", address]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT, check=False, timeout=300)


def test_declared_and_undeclared_ports_are_probed():
    from analysis.reachability import load_paths

    ports = verify.ports_to_probe(load_paths([str(MANIFESTS)]), [])
    # 8080/TCP twice declared (numerically and as the named port http of alpha/web), once probed.
    assert ports == [(7001, "TCP"), (8080, "TCP"), (5353, "UDP"), (7002, "UDP"), (7003, "SCTP"), (9999, "SCTP")]


def test_every_flow_agrees_on_the_lab_manifests(lab_workdir):
    done = _verify(lab_workdir, MANIFESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    # 5 workloads and 3 outside addresses: 5*4 + 2*5*3 pairs, 6 ports.
    assert done.stdout == "lab: 300/300 agree, 0 known deviations\n"


def test_a_drop_the_policies_do_not_ask_for_is_named(lab_workdir):
    node = LabState.load(lab_workdir).node_netns
    rule = ["-t", "raw", "PREROUTING", "-p", "tcp", "--dport", "8080", "-j", "DROP"]
    netns.run(["iptables", "-w", "5", rule[0], rule[1], "-I", *rule[2:]], netns=node)
    try:
        done = _verify(lab_workdir, MANIFESTS)
    finally:
        netns.run(["iptables", "-w", "5", rule[0], rule[1], "-D", *rule[2:]], netns=node)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "DISAGREE: beta/client -> alpha/web 8080/TCP: engine allow, lab deny" in lines
    assert "DISAGREE: ip:203.0.113.9 -> alpha/web 8080/TCP: engine allow, lab deny" in lines
    assert all(line.startswith("DISAGREE: ") and " 8080/TCP: engine allow, lab deny" in line for line in lines[:-1])
    assert lines[-1] == f"lab: {300 - (len(lines) - 1)}/300 agree, 0 known deviations"


def test_a_policy_the_lab_never_got_is_named(lab_workdir, tmp_path):
    (tmp_path / "db.yaml").write_text("""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-client-to-db, namespace: alpha}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: beta}}
          podSelector: {matchLabels: {app: client}}
      ports: [{protocol: TCP, port: 5432}]
""")
    done = _verify(lab_workdir, MANIFESTS, tmp_path, externals=())
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["DISAGREE: beta/client -> alpha/db 5432/TCP: engine allow, lab deny",
                                        "lab: 139/140 agree, 0 known deviations"]


def test_a_documented_deviation_does_not_fail(lab_workdir, tmp_path):
    """An egress rule without `to` allowing the named port http: the API resolves it at the destination (alpha/web,
    8080); kube-router only among the pods of the policy's namespace (beta, where nobody names a port http)."""
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "client-egress-http", "namespace": "beta"},
              "spec": {"podSelector": {"matchLabels": {"app": "client"}}, "policyTypes": ["Egress"],
                       "egress": [{"ports": [{"protocol": "TCP", "port": "http"}]}]}}
    (tmp_path / "egress.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: client-egress-http, namespace: beta}\n"
        "spec:\n  podSelector: {matchLabels: {app: client}}\n  policyTypes: [Egress]\n"
        "  egress:\n    - ports: [{protocol: TCP, port: http}]\n")
    lab_apply.apply(lab_workdir, [policy])
    try:
        done = _verify(lab_workdir, MANIFESTS, tmp_path)
    finally:
        lab_apply.Kubectl(LabState.load(lab_workdir))("delete", "networkpolicy", "-n", "beta", "client-egress-http")
        lab_apply.apply(lab_workdir, [])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "known deviation egress-named-port-without-to: beta/client -> alpha/web 8080/TCP: engine allow, lab deny",
        "lab: 299/300 agree, 1 known deviations"]


def test_every_deviation_names_the_enforcer_source_and_the_spec():
    deviations = verify.load_deviations()
    assert {d.id for d in deviations} >= {"node-to-pod", "egress-named-port-without-to",
                                          "cluster-policies-not-enforced"}
    pin = build.load_versions()["kube-router"]
    # The lab build's module cache holds the source the entries cite.
    module = cache.cache_root() / "go" / "mod" / f"{pin['module']}@{pin['version']}"
    for d in deviations:
        file = d.enforcer.split(" ")[0].split(":")[0]
        assert file.endswith(".go") and d.spec and d.summary, d
        assert (module / file).is_file(), d
        assert (d.engine, d.lab) in (("allow", "deny"), ("deny", "allow"), ("any", "any")), d


def test_a_cluster_policy_the_lab_does_not_enforce_is_a_known_deviation(lab_workdir, tmp_path):
    """kube-router enforces NetworkPolicy only: an Admin-tier Deny into beta changes the engine's verdicts, the lab's
    stay what the NetworkPolicies say, and each such flow is reported as that documented deviation, not a failure."""
    cnp = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: deny-into-beta}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: beta}}}
  ingress:
    - {name: deny, action: Deny, from: [{namespaces: {}}]}
"""
    (tmp_path / "cnp.yaml").write_text(cnp)
    lab_apply.apply(lab_workdir, lab_apply.load([str(tmp_path)]))  # the lab serves the CRD; nothing enforces it
    try:
        done = _verify(lab_workdir, MANIFESTS, tmp_path)
    finally:
        lab_apply.Kubectl(LabState.load(lab_workdir))("delete", "clusternetworkpolicy", "deny-into-beta")
    assert done.returncode == 0, done.stdout + done.stderr
    *lines, summary = done.stdout.splitlines()
    assert lines, "an Admin-tier Deny into beta must change some verdict"
    for line in lines:
        assert line.startswith("known deviation cluster-policies-not-enforced: "), line
        assert line.endswith(": engine deny, lab allow") and " -> beta/" in line, line
        assert not line.startswith("known deviation cluster-policies-not-enforced: ip:"), line  # namespaces only
    assert summary == f"lab: {300 - len(lines)}/300 agree, {len(lines)} known deviations"
