"""invariants.check, the pure function behind `tenancy check` and the CrossGuard stack policy: clean on every
real stack, intent read from the config or from the program's labels, widenings attributed to the policy that
opens them, and holes found wherever an ipBlock puts them."""

from __future__ import annotations

import copy

import pytest

from analysis.checks.invariants import RULES, Facts, Violation, check
from analysis.checks.invariants.facts import DeclaredIntent, LabelledIntent
from analysis.checks.invariants.rules import REGISTRY
from analysis.checks.invariants.rules import rule as register_rule
from kube.customresources import is_custom_resource
from stackconfig import parse_config, read_stack_file

from tests.handwritten import find, netpol, tier
from tests.paths import REPO_ROOT

MANAGED_BY = "app.kubernetes.io/managed-by"


def dev_values() -> dict:
    return read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()


def rules_of(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


@pytest.fixture
def manifests(dev):
    # The namespace policies alone: the holes below are opened through them, and dev's admin-tier cluster
    # policies would close some (tests/program/test_cluster_policies.py shows that they do).
    return copy.deepcopy([m for m in dev.manifests() if not is_custom_resource(m)])


def test_every_stack_render_is_clean_with_its_config_and_without(any_stack):
    assert check(any_stack.manifests(), any_stack.parsed.config) == []
    assert check(any_stack.manifests(), None) == []


def test_a_violation_prints_as_rule_subject_why_and_sorts_by_them():
    a = Violation("dns-reachable", "acme/x -> kube-system/cluster-dns", "DNS not reachable on UDP 53")
    b = Violation("cross-tenant-flow", "globex/y -> acme/x", "allowed on TCP 1")
    assert str(a) == "dns-reachable acme/x -> kube-system/cluster-dns: DNS not reachable on UDP 53"
    assert sorted([a, b]) == [b, a]


def test_only_the_rules_asked_for_run_and_unknown_ids_are_refused(manifests):
    broken = [m for m in manifests if m is not find(manifests, "acme", "default-deny")]
    assert rules_of(check(broken, None)) == {"tenant-default-deny"}
    assert check(broken, None, rules=["dns-reachable"]) == []
    with pytest.raises(ValueError, match="unknown rule id"):
        check(manifests, None, rules=["no-such-rule"])
    assert len(RULES) == 11


def test_a_harmless_tenant_policy_is_not_a_widening(manifests):
    # A tenant re-stating an allowance the program already makes opens nothing new.
    same = [netpol("acme", "my-frontend-egress", {"podSelector": tier("shop", "frontend"), "policyTypes": ["Egress"],
                                                  "egress": [{"to": [{"podSelector": tier("shop", "backend")}],
                                                              "ports": [{"port": 8080}]}]})]
    assert check(manifests + same, None) == []


def test_without_a_stack_the_programs_consumer_policies_are_the_declaration(manifests):
    # The same two consumer policies, no longer labelled as the program's: the cross-tenant flow they open is
    # now undeclared, and each side is attributed to its own policy.
    for name in ("shop-backend-from-globex-portal-backend", "portal-backend-to-acme-shop-backend"):
        ns = "acme" if name.startswith("shop") else "globex"
        del find(manifests, ns, name)["metadata"]["labels"][MANAGED_BY]
    found = check(manifests, None)
    assert rules_of(found) == {"cross-tenant-flow", "tenant-authored-widening"}
    widened = sorted(v.subject for v in found if v.rule == "tenant-authored-widening")
    assert widened == ["NetworkPolicy acme/shop-backend-from-globex-portal-backend",
                       "NetworkPolicy globex/portal-backend-to-acme-shop-backend"]


def test_with_a_stack_an_edited_program_policy_is_no_longer_the_programs(manifests, dev):
    # Same name and label, wider contents: against the stack it is what a tenant wrote, not what was rendered.
    find(manifests, "acme", "shop-frontend-to-backend-ingress")["spec"]["ingress"][0]["ports"] = [{"protocol": "TCP"}]
    found = check(manifests, dev.parsed.config)
    widening = [v for v in found if v.rule == "tenant-authored-widening"]
    assert [v.subject for v in widening] == ["NetworkPolicy acme/shop-frontend-to-backend-ingress"]
    assert "carries the program's managed-by label but is not what the program renders" in widening[0].why
    # Without a stack the label is all there is to go by: trusted, so no widening is claimed.
    assert "tenant-authored-widening" not in rules_of(check(manifests, None))


def test_intent_comes_from_the_stack_not_from_the_render(dev):
    # Render with internet egress, check against a stack without it: the proxy flow is undeclared.
    values = dev_values()
    values["tenants"][0]["apps"][0]["backend"]["internetEgress"] = False
    config = parse_config(values).config
    found = check(dev.manifests(), config)
    assert Violation("egress-via-proxy", "acme/shop-backend -> egress-proxy/egress-proxy",
                     "allowed on TCP 3128, but acme/shop-backend is not a backend declared with internetEgress: true"
                     ) in found


def test_without_a_stack_the_same_undeclared_proxy_flow_is_worded_by_the_label(dev):
    # The tenant-agnostic reading of the hole above: internet egress is a pod label there, and the line says so.
    manifests = copy.deepcopy(dev.manifests())
    backend = next(m for m in manifests if m["kind"] == "Deployment"
                   and (m["metadata"]["namespace"], m["metadata"]["name"]) == ("acme", "shop-backend"))
    del backend["spec"]["template"]["metadata"]["labels"]["tenancy/internet-egress"]
    assert Violation("egress-via-proxy", "acme/shop-backend -> egress-proxy/egress-proxy",
                     "allowed on TCP 3128, but acme/shop-backend is not labelled tenancy/internet-egress=true"
                     ) in check(manifests, None)


def test_facts_read_intent_one_way_per_check(dev):
    declared, labelled = Facts(dev.manifests(), dev.parsed.config), Facts(dev.manifests(), None)
    assert isinstance(declared.intent, DeclaredIntent) and isinstance(labelled.intent, LabelledIntent)
    # On the program's own render both readings agree on what the rules ask.
    assert declared.tenants == labelled.tenants and declared.proxy_port == labelled.proxy_port
    for d in declared.analysed.workloads:
        w = labelled.workload(d.endpoint)
        assert w is not None, d.endpoint
        assert (declared.tier(d), declared.serve_port(d), declared.metrics_port(d), declared.internet_egress(d)) == \
            (labelled.tier(w), labelled.serve_port(w), labelled.metrics_port(w), labelled.internet_egress(w))

def test_load_balancer_ranges_without_a_stack_come_from_the_service(manifests):
    find(manifests, "acme", "shop-frontend-from-load-balancer")["spec"]["ingress"][0]["from"] = [
        {"ipBlock": {"cidr": "0.0.0.0/0"}}]
    found = check(manifests, None)
    # The policy still carries the program's label, so it is trusted; the Service says what was meant.
    assert rules_of(found) == {"frontend-external-ingress"}
    assert Violation("frontend-external-ingress", "ip:192.0.2.10 -> acme/shop-frontend",
                     "allowed on TCP 8080; 192.0.2.10 is outside the load-balancer ranges (203.0.113.0/24)") in found


def test_a_hole_is_found_even_where_no_usual_probe_lies(manifests):
    # The except removes the one public probe address from the block; a witness address is computed instead.
    opened = netpol("acme", "frontend-out", {"podSelector": tier("shop", "frontend"), "policyTypes": ["Egress"],
                                             "egress": [{"to": [{"ipBlock": {"cidr": "192.0.2.0/24",
                                                                             "except": ["192.0.2.0/28"]}}]}]})
    found = check(manifests + [opened], None, rules=["egress-via-proxy"])
    assert [v.subject for v in found] == ["acme/shop-frontend -> ip:192.0.2.17"]


def test_dns_already_in_the_manifests_is_used_not_duplicated(manifests):
    coredns = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coredns", "namespace": "kube-system"},
               "spec": {"selector": {"matchLabels": {"k8s-app": "kube-dns"}}, "template": {
                   "metadata": {"labels": {"k8s-app": "kube-dns"}},
                   "spec": {"containers": [{"name": "coredns", "image": "coredns", "ports": [
                       {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                       {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}]}]}}}}
    facts = Facts(manifests + [coredns], None)
    assert [o["metadata"]["name"] for o in facts.context if o["kind"] == "Deployment"] == ["prometheus"]
    assert check(manifests + [coredns], None) == []
    # ...and when tenants cannot reach it, that is what is reported.
    dns_policy = find(manifests, "globex", "allow-dns-egress")
    dns_policy["spec"]["egress"][0]["to"][0]["podSelector"] = {"matchLabels": {"k8s-app": "coredns"}}
    found = check(manifests + [coredns], None)
    assert {v.subject for v in found} == {f"globex/portal-{t} -> kube-system/coredns"
                                          for t in ("frontend", "backend", "database")}


def test_the_readme_documents_every_rule_id():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Guardrails", 1)[1].split("\n## ", 1)[0]
    for rule in RULES:
        assert f"| `{rule}` |" in table, rule


def test_rules_are_listed_in_the_order_they_are_defined_and_the_readme_keeps_it():
    # The registry is filled as rules.py is imported, so the order of the definitions is the order every output
    # and the README list them in.
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| rule id | proves |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split("`")[1] for line in table.splitlines()] == list(RULES)
    assert list(RULES) == list(REGISTRY) and all(RULES[i] == REGISTRY[i].proves for i in RULES)


def test_a_rule_id_registered_twice_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        register_rule("dns-reachable", "again")(lambda f: iter(()))
    assert REGISTRY["dns-reachable"].proves == RULES["dns-reachable"] != "again"


def test_each_policy_opening_its_own_port_of_one_pair_is_named(manifests):
    # Two tenant policies on the ingress side of the same pair, each opening a different port (egress is opened
    # for both by a third): all three are named, not just whichever opens the lowest port.
    def ingress(name, port):
        return netpol("acme", name, {"podSelector": tier("shop", "backend"),
                                     "ingress": [{"from": [{"podSelector": tier("shop", "frontend")}],
                                                  "ports": [{"port": port}]}]})
    egress = netpol("acme", "frontend-out", {"podSelector": tier("shop", "frontend"), "policyTypes": ["Egress"],
                                             "egress": [{"to": [{"podSelector": tier("shop", "backend")}]}]})
    found = check(manifests + [ingress("debug-5005", 5005), ingress("debug-6006", 6006), egress], None)
    assert sorted(v.subject for v in found if v.rule == "tenant-authored-widening") == [
        "NetworkPolicy acme/debug-5005", "NetworkPolicy acme/debug-6006", "NetworkPolicy acme/frontend-out"]
