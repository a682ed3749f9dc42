"""Truth tables in the style of the upstream conformance suite (test/e2e/network/netpol).

Namespaces x, y, z (label ns=<name>) each hold pods a, b, c (label pod=<name>) serving 80 and 81 on TCP, UDP and
SCTP under the names serve-80-tcp, serve-81-udp, ... Each test states the expected matrix as "default, then
exceptions", and `assert_reach` checks both the bitset matrix and the per-pair verdict on every cell.

The policies of each case are data (conformance_cases.py), shared with tests/lab/test_conformance.py, which checks
the engine against kube-router's dataplane on the same cases; the expected matrices live here only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.reachability import Engine, PortSet, load_objects

from .conformance_cases import CASES
from .helpers import ALL_PODS, Reachability, assert_reach, netpol, pod_obj


def case_engine(name: str) -> Engine:
    """The engine over base_objects(), the case's extra objects and its policies."""
    return Engine(load_objects(CASES[name].objects()))


def test_every_case_has_its_expected_matrix_here():
    # A case added to conformance_cases.py without a test stating its truth table would be checked on the lab only
    # (engine against kube-router), never against the API.
    named = set(re.findall(r'"([a-z0-9-]+)"', Path(__file__).read_text()))
    assert set(CASES) <= named, sorted(set(CASES) - named)


def test_default_deny_ingress_isolates_only_selected_namespace():
    e = case_engine("default-deny-ingress")
    expected = Reachability(True).expect("*", "x/*", False)
    for proto in ("TCP", "UDP", "SCTP"):
        assert_reach(e, 80, proto, expected)


def test_default_deny_egress():
    e = case_engine("default-deny-egress")
    assert_reach(e, 80, "TCP", Reachability(True).expect("x/*", "*", False))


def test_allow_from_same_namespace_only():
    e = case_engine("allow-from-same-namespace")
    assert_reach(e, 80, "TCP", Reachability(True).expect("y/*", "x/*", False).expect("z/*", "x/*", False))


def test_pod_selector_targets_only_matching_pods():
    e = case_engine("pod-selector-targets-matching-pods")
    assert_reach(e, 81, "UDP", Reachability(True).expect("*", "x/a", False).expect("x/b", "x/a", True))


def test_namespace_selector_and_pod_selector_in_one_peer_is_and():
    e = case_engine("namespace-and-pod-selector-in-one-peer")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False).expect("y/b", "x/a", True))


def test_namespace_selector_and_pod_selector_in_two_peers_is_or():
    e = case_engine("namespace-and-pod-selector-in-two-peers")
    expected = Reachability(True).expect("*", "x/a", False).expect("y/*", "x/a", True).expect("x/b", "x/a", True)
    assert_reach(e, 80, "TCP", expected)


def test_empty_namespace_selector_means_all_namespaces():
    e = case_engine("empty-namespace-selector")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False).expect("*/b", "x/a", True))


def test_absent_namespace_selector_means_policy_namespace():
    e = case_engine("absent-namespace-selector")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False).expect("x/b", "x/a", True))


def test_match_expressions_not_in_and_does_not_exist():
    # extra pod y/d, labelled other=1 (no `pod` label)
    endpoints = ALL_PODS + ["y/d"]
    e = case_engine("match-expressions-not-in-and-does-not-exist")
    expected = (Reachability(True, endpoints).expect("*", "x/a", False)
                .expect("y/b", "x/a", True).expect("y/c", "x/a", True).expect("y/d", "x/a", True))
    assert_reach(e, 80, "TCP", expected)


def test_not_in_matches_objects_without_the_key():
    # extra pod x/d, labelled other=1 (no `pod` label)
    endpoints = ALL_PODS + ["x/d"]
    e = case_engine("not-in-matches-objects-without-the-key")
    # Pods without a `pod` label are selected too (NotIn is true for a missing key).
    expected = Reachability(True, endpoints).expect("*", "x/c", False).expect("*", "x/d", False)
    assert_reach(e, 80, "TCP", expected)


def test_exists_selects_by_key():
    e = case_engine("exists-selects-by-key")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("*/c", "x/*", True))


def test_named_port_resolves_on_destination_per_protocol():
    e = case_engine("named-port-per-protocol")
    assert_reach(e, 80, "TCP", Reachability(True))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 81, "TCP", x_closed)
    assert_reach(e, 80, "UDP", x_closed)
    assert_reach(e, 80, "SCTP", x_closed)


def test_named_port_with_wrong_protocol_resolves_to_nothing():
    # serve-80-udp exists, but as a UDP port; a TCP named port of that name matches nothing.
    e = case_engine("named-port-with-wrong-protocol")
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 80, "TCP", x_closed)
    assert_reach(e, 80, "UDP", x_closed)


def test_named_port_udp():
    e = case_engine("named-port-udp")
    assert_reach(e, 81, "UDP", Reachability(True))
    assert_reach(e, 81, "TCP", Reachability(True).expect("*", "x/*", False))


def test_named_port_differs_per_destination():
    # w/web1 names 8080/TCP http, w/web2 names 9090/TCP http; the policy admits "http" into both.
    e = case_engine("named-port-differs-per-destination")
    m = e.matrix([(8080, "TCP"), (9090, "TCP")])
    assert m[(8080, "TCP")]["w/web2"]["w/web1"] is True
    assert m[(8080, "TCP")]["w/web1"]["w/web2"] is False
    assert m[(9090, "TCP")]["w/web1"]["w/web2"] is True
    assert e.allowed_ports("w/web2", "w/web1") == PortSet.parse("TCP 8080")
    assert e.allowed_ports("w/web1", "w/web2") == PortSet.parse("TCP 9090")


def test_named_port_on_egress_resolves_against_destination():
    e = case_engine("named-port-on-egress")
    assert_reach(e, 81, "TCP", Reachability(True))
    assert_reach(e, 80, "TCP", Reachability(True).expect("x/a", "*", False))
    # An external address has no container ports, so a named egress port never reaches it.
    ext = ALL_PODS + ["ip:8.8.8.8"]
    assert_reach(e, 81, "TCP", Reachability(True, ext).expect("x/a", "ip:8.8.8.8", False), ["8.8.8.8"])


def test_numeric_port_and_end_port_range():
    e = case_engine("numeric-port-and-end-port")
    assert_reach(e, 80, "TCP", Reachability(True))
    assert_reach(e, 81, "TCP", Reachability(True))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 79, "TCP", x_closed)
    assert_reach(e, 82, "TCP", x_closed)
    assert_reach(e, 80, "UDP", x_closed)
    assert e.allowed_ports("y/a", "x/a") == PortSet.parse("TCP 80-81")


def test_protocol_defaults_to_tcp():
    e = case_engine("protocol-defaults-to-tcp")
    assert_reach(e, 80, "TCP", Reachability(True))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 80, "UDP", x_closed)
    assert_reach(e, 80, "SCTP", x_closed)


@pytest.mark.parametrize("proto, case", [("UDP", "udp-rule-does-not-open-tcp"),
                                         ("SCTP", "sctp-rule-does-not-open-tcp")])
def test_udp_and_sctp_rules_do_not_open_tcp(proto, case):
    e = case_engine(case)
    assert_reach(e, 81, proto, Reachability(True))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 81, "TCP", x_closed)
    assert_reach(e, 80, proto, x_closed)


def test_protocol_without_port_means_every_port_of_that_protocol():
    e = case_engine("protocol-without-port")
    assert_reach(e, 80, "UDP", Reachability(True))
    assert_reach(e, 81, "UDP", Reachability(True))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False))
    assert e.allowed_ports("y/a", "x/a") == PortSet.parse("UDP all")


def test_ports_on_one_rule_and_peers_on_another_are_independent():
    e = case_engine("ports-and-peers-on-separate-rules")
    # rule 0: x/b on any port; rule 1: anyone on 81
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False).expect("x/b", "x/a", True))
    assert_reach(e, 81, "TCP", Reachability(True))


def test_policy_types_default_with_egress_rules_isolates_both_directions():
    # No policyTypes + an egress section => [Ingress, Egress]; no ingress rules => ingress fully denied.
    e = case_engine("policy-types-default-with-egress-rules")
    expected = Reachability(True).expect("*", "x/a", False).expect("x/a", "*", False).expect("x/a", "y/*", True)
    assert_reach(e, 80, "TCP", expected)
    v = e.verdict("y/a", "x/a", 80)
    assert v.ingress.isolated and v.ingress.selecting_policies == ["x/egress-only-rules"]


def test_policy_types_default_with_empty_egress_list_is_ingress_only():
    e = case_engine("policy-types-default-with-empty-egress")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False))


def test_explicit_egress_policy_type_ignores_ingress_rules():
    e = case_engine("explicit-egress-type-ignores-ingress-rules")
    # Ingress to x/a stays open; egress from x/a only to x/c.
    expected = Reachability(True).expect("x/a", "*", False).expect("x/a", "x/c", True)
    assert_reach(e, 80, "TCP", expected)


def test_explicit_ingress_policy_type_ignores_egress_rules():
    e = case_engine("explicit-ingress-type-ignores-egress-rules")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False))


def test_missing_from_admits_everyone_and_empty_rule_list_admits_no_one():
    open_rule = case_engine("rule-without-from")
    assert_reach(open_rule, 80, "TCP", Reachability(True))
    empty_from = case_engine("rule-with-empty-from")
    assert_reach(empty_from, 80, "TCP", Reachability(True))  # the API: "empty or missing" from = all sources
    no_rules = case_engine("empty-ingress-rule-list")
    assert_reach(no_rules, 80, "TCP", Reachability(True).expect("*", "x/*", False))


def test_egress_and_ingress_both_required():
    e = case_engine("egress-and-ingress-both-required")
    expected = (Reachability(True)
                .expect("x/a", "*", False).expect("x/a", "y/*", True)  # x/a egress: y only
                .expect("*", "y/b", False).expect("x/b", "y/b", True))  # y/b ingress: x/b only
    assert_reach(e, 80, "TCP", expected)
    v = e.verdict("x/a", "y/b", 80)
    assert v.egress.allowed and not v.ingress.allowed


def test_union_of_policies_selecting_the_same_pod():
    e = case_engine("union-of-policies")
    base = Reachability(True).expect("*", "x/*", False).expect("y/*", "x/a", True)
    assert_reach(e, 80, "TCP", base)
    assert_reach(e, 81, "TCP", Reachability(True).expect("*", "x/*", False)
                 .expect("y/*", "x/a", True).expect("z/*", "x/a", True))
    assert e.allowed_ports("z/a", "x/a") == PortSet.parse("TCP 81")
    assert e.allowed_ports("y/a", "x/a") == PortSet.all()


EXTERNALS = ["10.0.0.1", "10.1.2.3", "192.168.0.1", "2001:db8::1", "2001:db9::1"]
EXT = [f"ip:{a}" for a in EXTERNALS]


def test_ip_block_with_except_on_ingress():
    e = case_engine("ip-block-with-except-on-ingress")
    expected = (Reachability(True, ALL_PODS + EXT)
                .expect("*", "x/a", False)  # pods never match ipBlocks
                .expect("ip:10.0.0.1", "x/a", True)
                .expect("ip:2001:db8::1", "x/a", True))
    assert_reach(e, 80, "TCP", expected, EXTERNALS)


def test_ip_block_on_egress_carves_cluster_ranges():
    e = case_engine("ip-block-on-egress-carves-cluster-ranges")
    ext = ["8.8.8.8", "10.9.9.9", "192.168.1.1", "2001:db8::1"]
    endpoints = ALL_PODS + [f"ip:{a}" for a in ext]
    closed = Reachability(True, endpoints).expect("x/a", "*", False)
    assert_reach(e, 443, "TCP", closed.expect("x/a", "ip:8.8.8.8", True), ext)
    assert_reach(e, 80, "TCP", Reachability(True, endpoints).expect("x/a", "*", False), ext)


def test_ip_block_ipv6_does_not_match_ipv4():
    e = case_engine("ip-block-ipv6-does-not-match-ipv4")
    ext = ["1.2.3.4", "2001:db8::5"]
    endpoints = ALL_PODS + [f"ip:{a}" for a in ext]
    expected = Reachability(True, endpoints).expect("*", "x/*", False).expect("ip:2001:db8::5", "x/*", True)
    assert_reach(e, 80, "TCP", expected, ext)


def test_selector_peers_never_match_external_addresses():
    e = case_engine("selector-peers-never-match-external-addresses")
    endpoints = ALL_PODS + ["ip:1.2.3.4"]
    assert_reach(e, 80, "TCP", Reachability(True, endpoints).expect("ip:1.2.3.4", "x/*", False), ["1.2.3.4"])


def test_undeclared_namespace_has_its_name_label():
    objs = [pod_obj("q", "p"), pod_obj("x", "a"),
            netpol("x", "from-q", {"podSelector": {},
                                   "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                                       "kubernetes.io/metadata.name": "q"}}}]}]})]
    e = Engine(load_objects(objs))
    assert e.verdict("q/p", "x/a", 80).allowed
    c = e.cluster
    assert c.namespaces["q"].labels == {"kubernetes.io/metadata.name": "q"} and not c.namespaces["q"].declared


def test_declared_namespace_always_carries_name_label():
    # x/from-y selects namespaces by kubernetes.io/metadata.name=y; base_objects() declare y with ns=y only.
    e = case_engine("declared-namespace-carries-name-label")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("y/*", "x/*", True))


def test_pods_without_policies_in_other_namespaces_unaffected_by_foreign_policy_selector():
    # A policy only ever selects pods in its own namespace, whatever its podSelector says.
    e = case_engine("policy-selects-only-its-own-namespace")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "y/a", False))


def test_default_deny_all_both_directions():
    e = case_engine("default-deny-all-both-directions")
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("x/*", "*", False))


def test_allow_all_ingress_policy_takes_precedence_over_deny():
    e = case_engine("allow-all-ingress-beats-deny")
    assert_reach(e, 80, "UDP", Reachability(True))


def test_allow_all_egress_policy_takes_precedence_over_deny():
    e = case_engine("allow-all-egress-with-default-types")
    # The allow-all-egress policy also defaults to Ingress (no ingress rules): it isolates ingress of x.
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False))
    e = case_engine("allow-all-egress-beats-deny")
    assert_reach(e, 80, "TCP", Reachability(True))


def test_ip_in_one_policys_except_is_still_allowed_by_another_policy():
    e = case_engine("ip-in-one-policys-except-allowed-by-another")
    ext = ["10.0.0.5", "10.0.0.6", "11.0.0.1"]
    endpoints = ALL_PODS + [f"ip:{a}" for a in ext]
    expected = (Reachability(True, endpoints).expect("*", "x/a", False)
                .expect("ip:10.0.0.5", "x/a", True).expect("ip:10.0.0.6", "x/a", True))
    assert_reach(e, 80, "TCP", expected, ext)
    v = e.verdict("ip:10.0.0.5", "x/a", 80)
    assert [r.policy for r in v.ingress.admitting] == ["x/hole-itself"]


def test_ingress_and_egress_rules_in_one_policy_are_independent():
    e = case_engine("ingress-and-egress-rules-independent")
    in_only = Reachability(True).expect("*", "x/a", False).expect("y/*", "x/a", True).expect("x/a", "*", False)
    assert_reach(e, 80, "TCP", in_only)
    assert_reach(e, 81, "TCP", Reachability(True).expect("*", "x/a", False).expect("y/*", "x/a", True)
                 .expect("x/a", "*", False).expect("x/a", "z/*", True))


def test_namespace_selector_with_in_over_default_name_label_on_named_port():
    e = case_engine("namespace-name-label-in-on-named-sctp-port")
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 81, "SCTP", Reachability(True).expect("x/*", "x/*", False))
    assert_reach(e, 80, "SCTP", x_closed)
    assert_reach(e, 81, "TCP", x_closed)


def test_egress_to_other_namespace_pod_by_and_selector():
    e = case_engine("egress-to-other-namespace-pod-by-and-selector")
    assert_reach(e, 80, "TCP", Reachability(True).expect("x/a", "*", False).expect("x/a", "y/b", True))
