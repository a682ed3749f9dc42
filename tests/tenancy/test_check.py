"""`tenancy check`: the dev render is clean against its own stack, and breaking any one invariant in it makes
check exit 1 naming that rule (one test per rule id), with only the side effects the break necessarily has."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from analysis.checks.invariants import RULES
from kube.customresources import is_custom_resource
from tenancy.cli import main
from tests.handwritten import find, netpol, tier
from tests.paths import REPO_ROOT

WIDENING = "tenant-authored-widening"


def without(manifests: list[dict], namespace: str, name: str) -> list[dict]:
    doomed = find(manifests, namespace, name)
    return [m for m in manifests if m is not doomed]


def run_check(capsys, paths: list[str], *options: str) -> tuple[int, list[str]]:
    code = main(["check", *paths, *options])
    out = capsys.readouterr().out
    return code, out.splitlines()


def write(tmp_path: Path, manifests: list[dict]) -> str:
    path = tmp_path / "manifests.yaml"
    path.write_text(yaml.safe_dump_all(manifests, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def manifests(dev):
    # The namespace policies alone: each case breaks one invariant through them, and dev's admin-tier cluster
    # policies and its admission policy would stop some of those widenings (tests/program/test_cluster_policies.py
    # and tests/analysis/checks/test_tenant_proof.py show that they do).
    return copy.deepcopy([m for m in dev.manifests() if not is_custom_resource(m)
                          and not m["kind"].startswith("ValidatingAdmissionPolicy")])


def test_a_tenant_s_proposal_the_admission_policy_refuses_is_a_note_not_a_violation(dev, tmp_path, capsys):
    proposal = netpol("acme", "allow-all", {"podSelector": {}, "ingress": [{}]})
    path = write(tmp_path, [*dev.manifests(), proposal])
    for stack in (["--stack", "dev"], []):  # tenant-authored: not rendered for dev / without the program's label
        code = main(["check", path, *stack])
        out, err = capsys.readouterr()
        assert (code, out) == (0, ""), stack
        assert ("note: tenant-authored-widening NetworkPolicy acme/allow-all: refused at admission to tenants by "
                "ValidatingAdmissionPolicy/tenancy-tenant-ingress validations[0]: ") in err
        assert "no violations" in err
    # Read from a cluster, the same policy is there: it counts.
    stored = netpol("acme", "allow-all", {"podSelector": {}, "ingress": [{}]})
    stored["metadata"]["uid"] = "0d2c1f5e-1111-4111-8111-000000000001"
    code, lines = run_check(capsys, [write(tmp_path, [*dev.manifests(), stored])], "--stack", "dev")
    assert code == 1 and any(line.startswith("frontend-external-ingress ip:") for line in lines), lines


def test_the_dev_render_is_clean_against_its_stack_and_without_one(tmp_path, capsys):
    out = tmp_path / "dev"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    capsys.readouterr()
    assert run_check(capsys, [str(out)], "--stack", "dev") == (0, [])
    assert run_check(capsys, [str(out)]) == (0, [])


def test_violations_are_sorted_unique_plain_lines(manifests, tmp_path, capsys):
    broken = [*without(manifests, "acme", "default-deny"),
              netpol("acme", "allow-all", {"podSelector": {}, "ingress": [{}]})]
    code, lines = run_check(capsys, [write(tmp_path, broken)], "--stack", "dev")
    assert code == 1
    assert lines == sorted(set(lines)) and len(lines) > 5
    for line in lines:
        rule, _, rest = line.partition(" ")
        assert rule in RULES and ": " in rest, line
        assert "\x1b[" not in line  # no colour codes when not on a terminal


# Each case: how to break the dev render (and, for intent checks, the config), the rule that must be named, and
# the other rules the same break necessarily trips. A policy a tenant adds always widens something, so it is
# also reported as tenant-authored-widening; removing a program policy widens nothing.

def break_default_deny(m, tmp):
    # DNS egress and monitoring ingress still select every pod, so flows do not change: only the rule sees it.
    return without(m, "acme", "default-deny"), ()


def break_cross_tenant(m, tmp):
    # Intent vs implementation: the render still lets globex in, but the stack no longer declares it.
    text = (REPO_ROOT / "Pulumi.dev.yaml").read_text()
    edited = text.replace("          consumers:\n            - {tenant: globex, app: portal, tier: backend}\n", "")
    assert edited != text
    (tmp / "Pulumi.dev.yaml").write_text(edited)
    return m, ("--config-dir", str(tmp))


def break_database(m, tmp):
    return [*m,
            netpol("acme", "frontend-to-db", {"podSelector": tier("shop", "frontend"), "policyTypes": ["Egress"],
                                               "egress": [{"to": [{"podSelector": tier("shop", "database")}],
                                                           "ports": [{"port": 5432}]}]}),
            netpol("acme", "db-from-frontend", {"podSelector": tier("shop", "database"),
                                                 "ingress": [{"from": [{"podSelector": tier("shop", "frontend")}],
                                                              "ports": [{"port": 5432}]}]})], ()


def break_monitoring(m, tmp):
    scrape_all = {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                  "ports": [{"port": 8080}]}
    return [*m, netpol("acme", "scrape-backend-api", {"podSelector": tier("shop", "backend"), "ingress": [scrape_all]})], ()


def break_egress_via_proxy(m, tmp):
    return [*m, netpol("acme", "frontend-to-google-dns", {
        "podSelector": tier("shop", "frontend"), "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "8.8.8.8/32"}}], "ports": [{"protocol": "UDP", "port": 53}]}]})], ()


def break_proxy_ranges(m, tmp):
    # The program's own policy, edited: no longer what the program renders, so it is also a widening.
    for peer in find(m, "egress-proxy", "egress-proxy-to-internet")["spec"]["egress"][0]["to"]:
        peer["ipBlock"].pop("except", None)
    return m, ()


def break_frontend_external(m, tmp):
    find(m, "acme", "shop-frontend-from-load-balancer")["spec"]["ingress"][0]["from"] = [
        {"ipBlock": {"cidr": "198.51.100.0/24"}}]
    return m, ()


def break_dns(m, tmp):
    return without(m, "globex", "allow-dns-egress"), ()


def break_open_world(m, tmp):
    # Selects no pod yet, so no flow opens today; the next pod labelled app=debug would be open to the internet.
    return [*m, netpol("acme", "debug-from-anywhere", {
        "podSelector": {"matchLabels": {"app": "debug"}},
        "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}]}]})], ()


def break_widening(m, tmp):
    # An extra port between two tiers that may talk anyway: no other invariant covers it, only the widening.
    return [*m,
            netpol("acme", "frontend-to-backend-debug", {"podSelector": tier("shop", "frontend"),
                                                         "policyTypes": ["Egress"],
                                                         "egress": [{"to": [{"podSelector": tier("shop", "backend")}],
                                                                     "ports": [{"port": 5005}]}]}),
            netpol("acme", "backend-debug-from-frontend", {"podSelector": tier("shop", "backend"),
                                                           "ingress": [{"from": [{"podSelector": tier("shop", "frontend")}],
                                                                        "ports": [{"port": 5005}]}]})], ()


def break_host_network(m, tmp):
    # A tenant's pod on its node's network: NetworkPolicy (default deny included) does not apply to it, so it
    # sends anywhere and accepts anyone, on every port.
    for obj in m:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "shop-frontend":
            obj["spec"]["template"]["spec"]["hostNetwork"] = True
    return m, ()


CASES = {
    "tenant-default-deny": (break_default_deny, set(),
                            "tenant-default-deny Namespace acme: not default-deny for ingress and egress"),
    "cross-tenant-flow": (break_cross_tenant, {WIDENING},
                          "cross-tenant-flow globex/portal-backend -> acme/shop-backend: allowed on TCP 8080, but acme "
                          "declares no consumer matching globex/portal-backend"),
    "database-ingress": (break_database, {WIDENING},
                         "database-ingress acme/shop-frontend -> acme/shop-database: allowed on TCP 5432; a database "
                         "accepts only acme/shop-backend pods on TCP 5432 and monitoring on TCP 9090"),
    "monitoring-metrics-only": (break_monitoring, {WIDENING},
                                "monitoring-metrics-only monitoring/prometheus -> acme/shop-backend: allowed on TCP 8080; "
                                "monitoring may scrape metrics only (its metrics port is TCP 9090)"),
    "egress-via-proxy": (break_egress_via_proxy, {WIDENING},
                         "egress-via-proxy acme/shop-frontend -> ip:8.8.8.8: allowed on UDP 53; tenant pods reach "
                         "external addresses only through the egress proxy"),
    "proxy-private-ranges": (break_proxy_ranges, {WIDENING},
                             "proxy-private-ranges egress-proxy/egress-proxy -> ip:169.254.169.254: allowed on TCP 80, "
                             "443; 169.254.169.254 is in 169.254.0.0/16, which the proxy must never reach"),
    "frontend-external-ingress": (break_frontend_external, {WIDENING},
                                  "frontend-external-ingress ip:198.51.100.1 -> acme/shop-frontend: allowed on TCP 8080; "
                                  "198.51.100.1 is outside the load-balancer ranges (203.0.113.0/24)"),
    "dns-reachable": (break_dns, set(),
                      "dns-reachable globex/portal-backend -> kube-system/cluster-dns: DNS not reachable on TCP 53, UDP 53"),
    "open-world-ingress": (break_open_world, set(),
                           "open-world-ingress NetworkPolicy acme/debug-from-anywhere: spec.ingress[0] admits 0.0.0.0/0 "
                           "and ::/0 into pods that are not frontends"),
    "tenant-host-network": (break_host_network, {"egress-via-proxy", "frontend-external-ingress",
                                                 "monitoring-metrics-only"},
                            "tenant-host-network Deployment acme/shop-frontend: runs with hostNetwork: no NetworkPolicy "
                            "isolates it (default deny included) and its traffic carries its node's address, which "
                            "tenant policies cannot tell apart"),
    WIDENING: (break_widening, set(),
               "tenant-authored-widening NetworkPolicy acme/backend-debug-from-frontend: opens 1 flow the program's "
               "policies do not: acme/shop-frontend -> acme/shop-backend on TCP 5005"),
}


def test_every_rule_has_a_breaking_case():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", list(CASES))
def test_breaking_one_invariant_exits_1_naming_its_rule(rule, manifests, tmp_path, capsys):
    mutate, side_effects, expected = CASES[rule]
    broken, options = mutate(manifests, tmp_path)
    code, lines = run_check(capsys, [write(tmp_path, broken)], "--stack", "dev", *options)
    assert code == 1
    reported = {line.split(" ", 1)[0] for line in lines}
    assert rule in reported
    assert reported - {rule} <= side_effects, lines
    assert any(line.startswith(expected) for line in lines), "\n".join(lines)


def test_the_readme_example_is_what_check_prints(manifests, tmp_path, capsys):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("sorted, for example\n\n```\n", 1)[1].split("\n```", 1)[0]
    broken, _ = break_database(manifests, tmp_path)
    assert run_check(capsys, [write(tmp_path, broken)], "--stack", "dev") == (1, example.splitlines())
