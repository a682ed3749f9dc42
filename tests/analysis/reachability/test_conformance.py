"""Truth tables in the style of the upstream conformance suite (test/e2e/network/netpol).

Namespaces x, y, z (label ns=<name>) each hold pods a, b, c (label pod=<name>) serving 80 and 81 on TCP, UDP and
SCTP under the names serve-80-tcp, serve-81-udp, ... Each test states the expected matrix as "default, then
exceptions", and `assert_reach` checks both the bitset matrix and the per-pair verdict on every cell.
"""

from __future__ import annotations

import pytest

from analysis.reachability import Engine, PortSet, load_objects

from .helpers import ALL_PODS, Reachability, assert_reach, base_objects, netpol, ns_obj, pod_obj


def engine(*policies: dict, extra: list[dict] | None = None) -> Engine:
    return Engine(load_objects(base_objects() + (extra or []) + list(policies)))


DENY_ALL_INGRESS_X = netpol("x", "deny-ingress", {"podSelector": {}})
DENY_ALL_EGRESS_X = netpol("x", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]})


def test_default_deny_ingress_isolates_only_selected_namespace():
    e = engine(DENY_ALL_INGRESS_X)
    expected = Reachability(True).expect("*", "x/*", False)
    for proto in ("TCP", "UDP", "SCTP"):
        assert_reach(e, 80, proto, expected)


def test_default_deny_egress():
    e = engine(DENY_ALL_EGRESS_X)
    assert_reach(e, 80, "TCP", Reachability(True).expect("x/*", "*", False))


def test_allow_from_same_namespace_only():
    e = engine(netpol("x", "same-ns", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}))
    assert_reach(e, 80, "TCP", Reachability(True).expect("y/*", "x/*", False).expect("z/*", "x/*", False))


def test_pod_selector_targets_only_matching_pods():
    e = engine(netpol("x", "a-from-b", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}],
    }))
    assert_reach(e, 81, "UDP", Reachability(True).expect("*", "x/a", False).expect("x/b", "x/a", True))


def test_namespace_selector_and_pod_selector_in_one_peer_is_and():
    e = engine(netpol("x", "and", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}},
                               "podSelector": {"matchLabels": {"pod": "b"}}}]}],
    }))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False).expect("y/b", "x/a", True))


def test_namespace_selector_and_pod_selector_in_two_peers_is_or():
    e = engine(netpol("x", "or", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}},
                              {"podSelector": {"matchLabels": {"pod": "b"}}}]}],
    }))
    expected = Reachability(True).expect("*", "x/a", False).expect("y/*", "x/a", True).expect("x/b", "x/a", True)
    assert_reach(e, 80, "TCP", expected)


def test_empty_namespace_selector_means_all_namespaces():
    e = engine(netpol("x", "all-ns-b", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"pod": "b"}}}]}],
    }))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False).expect("*/b", "x/a", True))


def test_absent_namespace_selector_means_policy_namespace():
    e = engine(netpol("x", "own-ns-b", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}],
    }))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False).expect("x/b", "x/a", True))


def test_match_expressions_not_in_and_does_not_exist():
    extra = [pod_obj("y", "d", labels={"other": "1"})]
    endpoints = ALL_PODS + ["y/d"]
    e = engine(netpol("x", "exprs", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [
            {"from": [{"namespaceSelector": {"matchExpressions": [{"key": "ns", "operator": "NotIn", "values": ["x", "z"]}]},
                       "podSelector": {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b", "c"]}]}}]},
            {"from": [{"namespaceSelector": {}, "podSelector": {"matchExpressions": [{"key": "pod", "operator": "DoesNotExist"}]}}]},
        ],
    }), extra=extra)
    expected = (Reachability(True, endpoints).expect("*", "x/a", False)
                .expect("y/b", "x/a", True).expect("y/c", "x/a", True).expect("y/d", "x/a", True))
    assert_reach(e, 80, "TCP", expected)


def test_not_in_matches_objects_without_the_key():
    extra = [pod_obj("x", "d", labels={"other": "1"})]
    endpoints = ALL_PODS + ["x/d"]
    e = engine(netpol("x", "notin", {
        "podSelector": {"matchExpressions": [{"key": "pod", "operator": "NotIn", "values": ["a", "b"]}]},
        "ingress": [],
    }), extra=extra)
    # Pods without a `pod` label are selected too (NotIn is true for a missing key).
    expected = Reachability(True, endpoints).expect("*", "x/c", False).expect("*", "x/d", False)
    assert_reach(e, 80, "TCP", expected)


def test_exists_selects_by_key():
    e = engine(netpol("x", "exists", {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{"key": "ns", "operator": "Exists"}]},
                               "podSelector": {"matchLabels": {"pod": "c"}}}]}],
    }))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("*/c", "x/*", True))


def test_named_port_resolves_on_destination_per_protocol():
    e = engine(netpol("x", "named", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": "serve-80-tcp"}]}],
    }))
    assert_reach(e, 80, "TCP", Reachability(True))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 81, "TCP", x_closed)
    assert_reach(e, 80, "UDP", x_closed)
    assert_reach(e, 80, "SCTP", x_closed)


def test_named_port_with_wrong_protocol_resolves_to_nothing():
    # serve-80-udp exists, but as a UDP port; a TCP named port of that name matches nothing.
    e = engine(netpol("x", "wrong-proto", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": "serve-80-udp", "protocol": "TCP"}]}],
    }))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 80, "TCP", x_closed)
    assert_reach(e, 80, "UDP", x_closed)


def test_named_port_udp():
    e = engine(netpol("x", "named-udp", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": "serve-81-udp", "protocol": "UDP"}]}],
    }))
    assert_reach(e, 81, "UDP", Reachability(True))
    assert_reach(e, 81, "TCP", Reachability(True).expect("*", "x/*", False))


def test_named_port_differs_per_destination():
    extra = [ns_obj("w"),
             pod_obj("w", "web1", {"app": "web"}, [("http", 8080, "TCP")]),
             pod_obj("w", "web2", {"app": "web"}, [("http", 9090, "TCP")])]
    objs = extra + [netpol("w", "http", {"podSelector": {"matchLabels": {"app": "web"}},
                                         "ingress": [{"ports": [{"port": "http"}]}]})]
    e = Engine(load_objects(objs))
    m = e.matrix([(8080, "TCP"), (9090, "TCP")])
    assert m[(8080, "TCP")]["w/web2"]["w/web1"] is True
    assert m[(8080, "TCP")]["w/web1"]["w/web2"] is False
    assert m[(9090, "TCP")]["w/web1"]["w/web2"] is True
    assert e.allowed_ports("w/web2", "w/web1") == PortSet.parse("TCP 8080")
    assert e.allowed_ports("w/web1", "w/web2") == PortSet.parse("TCP 9090")


def test_named_port_on_egress_resolves_against_destination():
    e = engine(netpol("x", "egress-named", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": "serve-81-tcp"}]}],
    }))
    assert_reach(e, 81, "TCP", Reachability(True))
    assert_reach(e, 80, "TCP", Reachability(True).expect("x/a", "*", False))
    # An external address has no container ports, so a named egress port never reaches it.
    ext = ALL_PODS + ["ip:8.8.8.8"]
    assert_reach(e, 81, "TCP", Reachability(True, ext).expect("x/a", "ip:8.8.8.8", False), ["8.8.8.8"])


def test_numeric_port_and_end_port_range():
    e = engine(netpol("x", "range", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": 80, "endPort": 81, "protocol": "TCP"}]}],
    }))
    assert_reach(e, 80, "TCP", Reachability(True))
    assert_reach(e, 81, "TCP", Reachability(True))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 79, "TCP", x_closed)
    assert_reach(e, 82, "TCP", x_closed)
    assert_reach(e, 80, "UDP", x_closed)
    assert e.allowed_ports("y/a", "x/a") == PortSet.parse("TCP 80-81")


def test_protocol_defaults_to_tcp():
    e = engine(netpol("x", "port-80", {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}))
    assert_reach(e, 80, "TCP", Reachability(True))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 80, "UDP", x_closed)
    assert_reach(e, 80, "SCTP", x_closed)


@pytest.mark.parametrize("proto", ["UDP", "SCTP"])
def test_udp_and_sctp_rules_do_not_open_tcp(proto):
    e = engine(netpol("x", "proto-only", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": 81, "protocol": proto}]}],
    }))
    assert_reach(e, 81, proto, Reachability(True))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 81, "TCP", x_closed)
    assert_reach(e, 80, proto, x_closed)


def test_protocol_without_port_means_every_port_of_that_protocol():
    e = engine(netpol("x", "all-udp", {"podSelector": {}, "ingress": [{"ports": [{"protocol": "UDP"}]}]}))
    assert_reach(e, 80, "UDP", Reachability(True))
    assert_reach(e, 81, "UDP", Reachability(True))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False))
    assert e.allowed_ports("y/a", "x/a") == PortSet.parse("UDP all")


def test_ports_on_one_rule_and_peers_on_another_are_independent():
    e = engine(netpol("x", "two-rules", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]},
                    {"ports": [{"port": 81}]}],
    }))
    # rule 0: x/b on any port; rule 1: anyone on 81
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False).expect("x/b", "x/a", True))
    assert_reach(e, 81, "TCP", Reachability(True))


def test_policy_types_default_with_egress_rules_isolates_both_directions():
    # No policyTypes + an egress section => [Ingress, Egress]; no ingress rules => ingress fully denied.
    e = engine(netpol("x", "egress-only-rules", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}],
    }))
    expected = Reachability(True).expect("*", "x/a", False).expect("x/a", "*", False).expect("x/a", "y/*", True)
    assert_reach(e, 80, "TCP", expected)
    v = e.verdict("y/a", "x/a", 80)
    assert v.ingress.isolated and v.ingress.selecting_policies == ["x/egress-only-rules"]


def test_policy_types_default_with_empty_egress_list_is_ingress_only():
    e = engine(netpol("x", "empty-egress", {"podSelector": {"matchLabels": {"pod": "a"}}, "egress": []}))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False))


def test_explicit_egress_policy_type_ignores_ingress_rules():
    e = engine(netpol("x", "egress-type", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Egress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}],
        "egress": [{"to": [{"podSelector": {"matchLabels": {"pod": "c"}}}]}],
    }))
    # Ingress to x/a stays open; egress from x/a only to x/c.
    expected = Reachability(True).expect("x/a", "*", False).expect("x/a", "x/c", True)
    assert_reach(e, 80, "TCP", expected)


def test_explicit_ingress_policy_type_ignores_egress_rules():
    e = engine(netpol("x", "ingress-type", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Ingress"],
        "egress": [{"to": [{"podSelector": {"matchLabels": {"pod": "c"}}}]}],
    }))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/a", False))


def test_missing_from_admits_everyone_and_empty_rule_list_admits_no_one():
    open_rule = engine(netpol("x", "open", {"podSelector": {}, "ingress": [{}]}))
    assert_reach(open_rule, 80, "TCP", Reachability(True))
    empty_from = engine(netpol("x", "empty-from", {"podSelector": {}, "ingress": [{"from": []}]}))
    assert_reach(empty_from, 80, "TCP", Reachability(True))  # the API: "empty or missing" from = all sources
    no_rules = engine(netpol("x", "no-rules", {"podSelector": {}, "ingress": []}))
    assert_reach(no_rules, 80, "TCP", Reachability(True).expect("*", "x/*", False))


def test_egress_and_ingress_both_required():
    e = engine(
        netpol("x", "a-egress-to-y", {
            "podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}],
        }),
        netpol("y", "b-from-x-b", {
            "podSelector": {"matchLabels": {"pod": "b"}},
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "x"}},
                                   "podSelector": {"matchLabels": {"pod": "b"}}}]}],
        }),
    )
    expected = (Reachability(True)
                .expect("x/a", "*", False).expect("x/a", "y/*", True)  # x/a egress: y only
                .expect("*", "y/b", False).expect("x/b", "y/b", True))  # y/b ingress: x/b only
    assert_reach(e, 80, "TCP", expected)
    v = e.verdict("x/a", "y/b", 80)
    assert v.egress.allowed and not v.ingress.allowed


def test_union_of_policies_selecting_the_same_pod():
    e = engine(
        netpol("x", "from-y", {"podSelector": {"matchLabels": {"pod": "a"}},
                               "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}]}),
        netpol("x", "from-z-81", {"podSelector": {"matchLabels": {"pod": "a"}},
                                  "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "z"}}}],
                                               "ports": [{"port": 81}]}]}),
        DENY_ALL_INGRESS_X,
    )
    base = Reachability(True).expect("*", "x/*", False).expect("y/*", "x/a", True)
    assert_reach(e, 80, "TCP", base)
    assert_reach(e, 81, "TCP", Reachability(True).expect("*", "x/*", False)
                 .expect("y/*", "x/a", True).expect("z/*", "x/a", True))
    assert e.allowed_ports("z/a", "x/a") == PortSet.parse("TCP 81")
    assert e.allowed_ports("y/a", "x/a") == PortSet.all()


EXTERNALS = ["10.0.0.1", "10.1.2.3", "192.168.0.1", "2001:db8::1", "2001:db9::1"]
EXT = [f"ip:{a}" for a in EXTERNALS]


def test_ip_block_with_except_on_ingress():
    e = engine(netpol("x", "cidr", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                              {"ipBlock": {"cidr": "2001:db8::/32"}}]}],
    }))
    expected = (Reachability(True, ALL_PODS + EXT)
                .expect("*", "x/a", False)  # pods never match ipBlocks
                .expect("ip:10.0.0.1", "x/a", True)
                .expect("ip:2001:db8::1", "x/a", True))
    assert_reach(e, 80, "TCP", expected, EXTERNALS)


def test_ip_block_on_egress_carves_cluster_ranges():
    e = engine(netpol("x", "internet-only", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}}],
                    "ports": [{"port": 443}]}],
    }))
    ext = ["8.8.8.8", "10.9.9.9", "192.168.1.1", "2001:db8::1"]
    endpoints = ALL_PODS + [f"ip:{a}" for a in ext]
    closed = Reachability(True, endpoints).expect("x/a", "*", False)
    assert_reach(e, 443, "TCP", closed.expect("x/a", "ip:8.8.8.8", True), ext)
    assert_reach(e, 80, "TCP", Reachability(True, endpoints).expect("x/a", "*", False), ext)


def test_ip_block_ipv6_does_not_match_ipv4():
    e = engine(netpol("x", "v6-all", {
        "podSelector": {},
        "ingress": [{"from": [{"ipBlock": {"cidr": "::/0"}}]}],
    }))
    ext = ["1.2.3.4", "2001:db8::5"]
    endpoints = ALL_PODS + [f"ip:{a}" for a in ext]
    expected = Reachability(True, endpoints).expect("*", "x/*", False).expect("ip:2001:db8::5", "x/*", True)
    assert_reach(e, 80, "TCP", expected, ext)


def test_selector_peers_never_match_external_addresses():
    e = engine(netpol("x", "all-pods", {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {}}]}],
    }))
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
    objs = base_objects() + [netpol("x", "from-y", {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}}]}],
    })]
    e = Engine(load_objects(objs))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("y/*", "x/*", True))


def test_pods_without_policies_in_other_namespaces_unaffected_by_foreign_policy_selector():
    # A policy only ever selects pods in its own namespace, whatever its podSelector says.
    e = engine(netpol("y", "selects-pod-a", {"podSelector": {"matchLabels": {"pod": "a"}}}))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "y/a", False))


def test_default_deny_all_both_directions():
    e = engine(netpol("x", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}))
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("x/*", "*", False))


def test_allow_all_ingress_policy_takes_precedence_over_deny():
    e = engine(DENY_ALL_INGRESS_X, netpol("x", "allow-all", {"podSelector": {}, "ingress": [{}]}))
    assert_reach(e, 80, "UDP", Reachability(True))


def test_allow_all_egress_policy_takes_precedence_over_deny():
    e = engine(DENY_ALL_EGRESS_X, netpol("x", "allow-all-egress", {"podSelector": {}, "egress": [{}]}))
    # The allow-all-egress policy also defaults to Ingress (no ingress rules): it isolates ingress of x.
    assert_reach(e, 80, "TCP", Reachability(True).expect("*", "x/*", False))
    e = engine(DENY_ALL_EGRESS_X, netpol("x", "allow-all-egress", {"podSelector": {}, "policyTypes": ["Egress"],
                                                                   "egress": [{}]}))
    assert_reach(e, 80, "TCP", Reachability(True))


def test_ip_in_one_policys_except_is_still_allowed_by_another_policy():
    e = engine(
        netpol("x", "wide-minus-hole", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [
            {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.5/32"]}}]}]}),
        netpol("x", "hole-itself", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [
            {"from": [{"ipBlock": {"cidr": "10.0.0.5/32"}}]}]}),
    )
    ext = ["10.0.0.5", "10.0.0.6", "11.0.0.1"]
    endpoints = ALL_PODS + [f"ip:{a}" for a in ext]
    expected = (Reachability(True, endpoints).expect("*", "x/a", False)
                .expect("ip:10.0.0.5", "x/a", True).expect("ip:10.0.0.6", "x/a", True))
    assert_reach(e, 80, "TCP", expected, ext)
    v = e.verdict("ip:10.0.0.5", "x/a", 80)
    assert [r.policy for r in v.ingress.admitting] == ["x/hole-itself"]


def test_ingress_and_egress_rules_in_one_policy_are_independent():
    e = engine(netpol("x", "both", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "z"}}}], "ports": [{"port": 81}]}],
    }))
    in_only = Reachability(True).expect("*", "x/a", False).expect("y/*", "x/a", True).expect("x/a", "*", False)
    assert_reach(e, 80, "TCP", in_only)
    assert_reach(e, 81, "TCP", Reachability(True).expect("*", "x/a", False).expect("y/*", "x/a", True)
                 .expect("x/a", "*", False).expect("x/a", "z/*", True))


def test_namespace_selector_with_in_over_default_name_label_on_named_port():
    e = engine(netpol("x", "from-y-z-named", {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["y", "z"]}]}}],
            "ports": [{"port": "serve-81-sctp", "protocol": "SCTP"}]}],
    }))
    x_closed = Reachability(True).expect("*", "x/*", False)
    assert_reach(e, 81, "SCTP", Reachability(True).expect("x/*", "x/*", False))
    assert_reach(e, 80, "SCTP", x_closed)
    assert_reach(e, 81, "TCP", x_closed)


def test_egress_to_other_namespace_pod_by_and_selector():
    e = engine(netpol("x", "a-to-y-b", {
        "podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}, "podSelector": {"matchLabels": {"pod": "b"}}}]}],
    }))
    assert_reach(e, 80, "TCP", Reachability(True).expect("x/a", "*", False).expect("x/a", "y/b", True))
