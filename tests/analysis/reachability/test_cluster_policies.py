"""Truth tables for cluster policies (ClusterNetworkPolicy v1alpha2/v1beta1, AdminNetworkPolicy and
BaselineAdminNetworkPolicy v1alpha1) together with NetworkPolicy, in the conformance style of test_conformance.py.

Semantics from sigs.k8s.io/network-policy-api (apis/v1alpha2/clusternetworkpolicy_types.go, apis/v1alpha1, and the
conformance suite): per direction, the Admin tier by priority then rule order (Accept/Deny final, Pass skips the
rest of the tier), then NetworkPolicy for an isolated pod, then the Baseline tier, then allow; a connection needs
egress at the source and ingress at the destination. Each table checks the bitset matrix, every per-pair verdict,
and the per-pair port sets of `allowed_ports`/`flows`.
"""

from __future__ import annotations

import pytest

from analysis.reachability import Engine, ManifestError, PortSet, load_objects
from analysis.reachability.clusterpolicy import parse_cluster_policy
from analysis.reachability.explain import verdict_text

from .helpers import ALL_PODS, PROTOS, Reachability, assert_reach, base_objects, netpol

GROUP = "policy.networking.k8s.io"
EXTERNALS = ["ip:8.8.8.8", "ip:10.1.2.3", "ip:2001:db8::1"]


def cnp(name: str, tier: str, priority: int, subject: dict, ingress: list | None = None,
        egress: list | None = None, version: str = "v1alpha2") -> dict:
    spec: dict = {"tier": tier, "priority": priority, "subject": subject}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": f"{GROUP}/{version}", "kind": "ClusterNetworkPolicy", "metadata": {"name": name},
            "spec": spec}


def anp(name: str, priority: int, subject: dict, ingress: list | None = None, egress: list | None = None) -> dict:
    spec: dict = {"priority": priority, "subject": subject}
    spec.update({k: v for k, v in (("ingress", ingress), ("egress", egress)) if v is not None})
    return {"apiVersion": f"{GROUP}/v1alpha1", "kind": "AdminNetworkPolicy", "metadata": {"name": name},
            "spec": spec}


def banp(subject: dict, ingress: list | None = None, egress: list | None = None) -> dict:
    spec: dict = {"subject": subject}
    spec.update({k: v for k, v in (("ingress", ingress), ("egress", egress)) if v is not None})
    return {"apiVersion": f"{GROUP}/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
            "metadata": {"name": "default"}, "spec": spec}


def ns(name: str) -> dict:
    return {"namespaces": {"matchLabels": {"ns": name}}}


ALL_NS: dict = {"namespaces": {}}


def pods(namespace: str, pod: str) -> dict:
    return {"pods": {"namespaceSelector": {"matchLabels": {"ns": namespace}}, "podSelector": {"matchLabels": {"pod": pod}}}}


def rule(action: str, peers: list, protocols: list | None = None, name: str = "", direction: str = "ingress") -> dict:
    r: dict = {"action": action, "from" if direction == "ingress" else "to": peers}
    if name:
        r["name"] = name
    if protocols is not None:
        r["protocols"] = protocols
    return r


def out(action: str, peers: list, protocols: list | None = None, name: str = "") -> dict:
    return rule(action, peers, protocols, name, "egress")


def tcp(n: int) -> dict:
    return {"tcp": {"destinationPort": {"number": n}}}


def engine(*objs: dict) -> Engine:
    return Engine(load_objects(base_objects() + list(objs)))


def experimental(*objs: dict) -> Engine:
    """An engine over cluster policies using experimental-channel fields (nodes, domainNames, named ports) or
    shapes no CRD accepts (a peer with no known field): the loader refuses them against the standard-channel CRDs
    the project ships, so they are read here the way a cluster serving them would hand them to the engine."""
    cluster = load_objects(base_objects() + [o for o in objs if o["kind"] == "NetworkPolicy"])
    problems: list[str] = []
    for o in objs:
        if o["kind"] != "NetworkPolicy":
            cp = parse_cluster_policy(o, o["kind"], o["metadata"]["name"], "test", problems)
            assert cp is not None, problems
            cluster.cluster_policies.append(cp)
    return Engine(cluster)


def check(e: Engine, port: int, proto: str, expected: Reachability, externals: list[str] | None = None) -> None:
    """Matrix and verdicts (assert_reach), then the port-set path: allowed_ports and flows agree on every cell."""
    assert_reach(e, port, proto, expected, externals or ())
    flows = e.flows(externals or ())
    for s in expected.endpoints:
        for d in expected.endpoints:
            if s == d or (s.startswith("ip:") and d.startswith("ip:")):
                continue
            want = expected.table[s][d]
            assert ((port, proto) in e.allowed_ports(s, d)) == want, (s, d, port, proto)
            assert ((port, proto) in flows.get((s, d), PortSet())) == want, (s, d, port, proto)


DENY_ALL_INGRESS_X = netpol("x", "deny-ingress", {"podSelector": {}})
DENY_ALL_INGRESS_Y = netpol("y", "deny-ingress", {"podSelector": {}})
DENY_ALL_EGRESS_X = netpol("x", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]})


# ------------------------------------------------------------------------------------------------ Admin tier


@pytest.mark.parametrize("proto", PROTOS)
def test_admin_deny_ingress_is_final(proto):
    e = engine(cnp("deny-y", "Admin", 10, ns("x"), ingress=[rule("Deny", [ns("y")])]))
    check(e, 80, proto, Reachability(True).expect("y/*", "x/*", False))


def test_admin_accept_opens_what_a_networkpolicy_isolates():
    """Trap: a NetworkPolicy isolates x, yet an Admin Accept lets y in; NetworkPolicy is never consulted for it."""
    e = engine(DENY_ALL_INGRESS_X, cnp("accept-y", "Admin", 10, ns("x"), ingress=[rule("Accept", [ns("y")])]))
    check(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("y/*", "x/*", True))


def test_admin_deny_closes_what_a_networkpolicy_allows():
    allow_all = netpol("x", "allow-all", {"podSelector": {}, "ingress": [{}]})
    e = engine(allow_all, cnp("deny-y", "Admin", 10, ns("x"), ingress=[rule("Deny", [ns("y")])]))
    check(e, 80, "TCP", Reachability(True).expect("y/*", "x/*", False))


def test_pass_hands_over_to_networkpolicy_and_skips_the_rest_of_the_admin_tier():
    allow_y_80 = netpol("x", "allow-y-80", {"podSelector": {}, "ingress": [
        {"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}], "ports": [{"port": 80}]}]})
    e = engine(
        allow_y_80,
        cnp("pass-y", "Admin", 10, ns("x"), ingress=[rule("Pass", [ns("y")])]),
        cnp("deny-yz", "Admin", 20, ns("x"), ingress=[rule("Deny", [ns("y"), ns("z")])]),
    )
    # 80: y passed -> NetworkPolicy admits; z denied by the later Admin rule; x isolated by the NetworkPolicy.
    check(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("y/*", "x/*", True))
    # 81: y passed -> NetworkPolicy (isolating) admits nothing on 81.
    check(e, 81, "TCP", Reachability(True).expect("*", "x/*", False))


def test_pass_falls_through_to_baseline_when_no_networkpolicy_selects():
    """Trap: Pass does not mean allow. With no NetworkPolicy for x the Baseline tier decides next."""
    passing = cnp("pass-y", "Admin", 10, ns("x"), ingress=[rule("Pass", [ns("y")])])
    baseline = cnp("baseline", "Baseline", 10, ns("x"), ingress=[rule("Deny", [ns("y"), ns("z")])])
    check(engine(passing, baseline), 80, "TCP", Reachability(True).expect("y/*", "x/*", False).expect("z/*", "x/*", False))
    # Without a Baseline policy nothing decides: the default allows.
    check(engine(passing), 80, "TCP", Reachability(True))


def test_priority_lower_value_first():
    """Upstream CNPAdminTierPriorityField: Deny at 50 beats Pass at 60; Pass at 40 beats the Deny, and the
    Baseline Accept then allows."""
    deny = cnp("priority-50", "Admin", 50, ns("x"), ingress=[rule("Deny", [ns("y")])], egress=[out("Deny", [ns("y")])])
    baseline = cnp("default", "Baseline", 10, ns("x"), ingress=[rule("Accept", [ns("y")])],
                   egress=[out("Accept", [ns("y")])])
    for prio, allowed in ((60, False), (40, True)):
        passing = cnp("pass", "Admin", prio, ns("x"), ingress=[rule("Pass", [ns("y")])],
                      egress=[out("Pass", [ns("y")])])
        e = engine(deny, passing, baseline)
        expected = Reachability(True).expect("y/*", "x/*", allowed).expect("x/*", "y/*", allowed)
        check(e, 80, "TCP", expected)
        check(e, 8080, "TCP", expected)


@pytest.mark.parametrize("order, allowed", [(("Accept", "Deny"), True), (("Deny", "Accept"), False),
                                            (("Pass", "Deny"), True), (("Deny", "Pass"), False)])
def test_rules_of_one_policy_apply_in_written_order(order, allowed):
    e = engine(cnp("ordered", "Admin", 10, ns("x"), ingress=[rule(order[0], [ns("y")]), rule(order[1], [ns("y")])]))
    check(e, 80, "TCP", Reachability(True).expect("y/*", "x/*", allowed))


def test_subject_pods_selects_namespace_and_pod():
    e = engine(cnp("deny-into-xa", "Admin", 10, pods("x", "a"), ingress=[rule("Deny", [ALL_NS])]))
    check(e, 80, "TCP", Reachability(True).expect("*", "x/a", False))


def test_peer_pods_selects_namespace_and_pod():
    e = engine(cnp("deny-yb", "Admin", 10, ALL_NS, ingress=[rule("Deny", [pods("y", "b")])]))
    check(e, 80, "TCP", Reachability(True).expect("y/b", "*", False))


# ------------------------------------------------------------------------------------------------ Baseline tier


def test_baseline_applies_only_where_no_networkpolicy_isolates():
    allow_y_into_a = netpol("x", "a-from-y", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [
        {"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}]})
    e = engine(allow_y_into_a, cnp("default-deny", "Baseline", 10, ns("x"), ingress=[rule("Deny", [ALL_NS])]))
    expected = Reachability(True).expect("*", "x/*", False).expect("y/*", "x/a", True)
    check(e, 80, "TCP", expected)


def test_baseline_accept_cannot_open_a_networkpolicy_isolated_pod():
    e = engine(DENY_ALL_INGRESS_X, cnp("accept-y", "Baseline", 10, ns("x"), ingress=[rule("Accept", [ns("y")])]))
    check(e, 80, "TCP", Reachability(True).expect("*", "x/*", False))


def test_baseline_pass_goes_to_the_default():
    e = engine(cnp("b", "Baseline", 10, ns("x"), ingress=[rule("Pass", [ns("y")]), rule("Deny", [ALL_NS])]))
    check(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("y/*", "x/*", True))


def test_baseline_egress_deny_and_networkpolicy_egress_isolation():
    allow_a_to_y = netpol("x", "a-to-y", {"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
                                          "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}]})
    e = engine(allow_a_to_y, cnp("no-y", "Baseline", 10, ns("x"), egress=[out("Deny", [ns("y"), ns("z")])]))
    expected = (Reachability(True).expect("x/*", "y/*", False).expect("x/*", "z/*", False)
                .expect("x/a", "*", False).expect("x/a", "y/*", True))
    check(e, 80, "TCP", expected)


# ------------------------------------------------------------------------------------------------ both directions


def test_admin_egress_accept_still_needs_ingress_at_the_destination():
    """Trap: Accept on egress ends the source's evaluation only; y's NetworkPolicy still isolates its ingress."""
    e = engine(DENY_ALL_INGRESS_Y, cnp("x-to-y", "Admin", 10, ns("x"), egress=[out("Accept", [ns("y")])]))
    check(e, 80, "TCP", Reachability(True).expect("*", "y/*", False))


def test_admin_ingress_accept_still_needs_egress_at_the_source():
    e = engine(DENY_ALL_EGRESS_X, cnp("y-from-x", "Admin", 10, ns("y"), ingress=[rule("Accept", [ns("x")])]))
    check(e, 80, "TCP", Reachability(True).expect("x/*", "*", False))


def test_admin_accept_on_both_sides_beats_networkpolicies_on_both_sides():
    e = engine(DENY_ALL_EGRESS_X, DENY_ALL_INGRESS_Y,
               cnp("x-to-y", "Admin", 10, ns("x"), egress=[out("Accept", [ns("y")])]),
               cnp("y-from-x", "Admin", 10, ns("y"), ingress=[rule("Accept", [ns("x")])]))
    expected = Reachability(True).expect("x/*", "*", False).expect("*", "y/*", False).expect("x/*", "y/*", True)
    check(e, 80, "TCP", expected)


def test_admin_egress_deny_beats_admin_ingress_accept():
    e = engine(cnp("x-not-to-y", "Admin", 10, ns("x"), egress=[out("Deny", [ns("y")])]),
               cnp("y-from-x", "Admin", 5, ns("y"), ingress=[rule("Accept", [ns("x")])]))
    check(e, 80, "TCP", Reachability(True).expect("x/*", "y/*", False))


def test_admin_egress_accept_and_baseline_ingress_deny_at_the_destination():
    e = engine(cnp("x-to-y", "Admin", 10, ns("x"), egress=[out("Accept", [ns("y")])]),
               cnp("y-closed", "Baseline", 10, ns("y"), ingress=[rule("Deny", [ALL_NS])]))
    check(e, 80, "TCP", Reachability(True).expect("*", "y/*", False))


def test_egress_pass_falls_through_to_baseline_egress():
    e = engine(cnp("pass", "Admin", 10, ns("x"), egress=[out("Pass", [ns("y")])]),
               cnp("b", "Baseline", 10, ns("x"), egress=[out("Deny", [ns("y")])]))
    check(e, 80, "TCP", Reachability(True).expect("x/*", "y/*", False))


# ------------------------------------------------------------------------------------------------ peers and ports


def test_networks_peer_matches_pod_traffic_when_it_covers_the_pod_network():
    """The API: Deny to 0.0.0.0/0 denies all IPv4 pod-to-pod traffic too, unless pod traffic is passed first."""
    endpoints = ALL_PODS + EXTERNALS
    deny = cnp("no-internet", "Admin", 10, ns("x"), egress=[out("Deny", [{"networks": ["0.0.0.0/0"]}])])
    expected = Reachability(True, endpoints).expect("x/*", "*", False).expect("x/*", "ip:2001:db8::1", True)
    check(engine(deny), 80, "TCP", expected, EXTERNALS)
    pass_pods = cnp("no-internet", "Admin", 10, ns("x"), egress=[
        out("Pass", [ALL_NS]), out("Deny", [{"networks": ["0.0.0.0/0", "::/0"]}])])
    expected = Reachability(True, endpoints).expect("x/*", "ip:8.8.8.8", False).expect("x/*", "ip:10.1.2.3", False)
    check(engine(pass_pods), 80, "TCP", expected.expect("x/*", "ip:2001:db8::1", False), EXTERNALS)


def test_networks_peer_covering_part_of_the_pod_network_matches_external_addresses_only():
    e = engine(cnp("no-10", "Admin", 10, ns("x"), egress=[out("Deny", [{"networks": ["10.0.0.0/8", "::/0"]}])]))
    expected = (Reachability(True, ALL_PODS + EXTERNALS).expect("x/*", "ip:10.1.2.3", False)
                .expect("x/*", "ip:2001:db8::1", False))
    check(e, 80, "TCP", expected, EXTERNALS)
    assert any("cover part of the pod network" in w for w in e.warnings)


def test_networks_peer_with_a_configured_pod_network():
    import ipaddress

    objs = base_objects() + [cnp("no-10", "Admin", 10, ns("x"), egress=[out("Deny", [{"networks": ["10.0.0.0/8"]}])])]
    e = Engine(load_objects(objs), pod_networks=[ipaddress.ip_network("10.244.0.0/16")])
    check(e, 80, "TCP", Reachability(True).expect("x/*", "*", False))
    assert not e.warnings


def test_admin_ingress_peers_never_match_external_sources():
    ext = ["ip:203.0.113.7"]
    e = engine(cnp("deny-all", "Admin", 10, ns("x"), ingress=[rule("Deny", [ALL_NS])]))
    check(e, 80, "TCP", Reachability(True, ALL_PODS + ext).expect("*/*", "x/*", False), ext)


def test_node_and_domain_name_peers_are_not_modelled_and_warned_about():
    e = experimental(cnp("nodes", "Admin", 10, ns("x"), egress=[
        out("Deny", [{"nodes": {}}]), out("Accept", [{"domainNames": ["example.com"]}])]))
    check(e, 80, "TCP", Reachability(True), ["ip:8.8.8.8"])
    assert sum("not modelled" in w for w in e.warnings) == 2


@pytest.mark.parametrize("port, proto, denied", [(80, "UDP", True), (80, "TCP", False), (81, "UDP", False)])
def test_destination_named_port_resolves_on_the_destination_with_its_protocol(port, proto, denied):
    e = experimental(cnp("named", "Admin", 10, ns("x"), ingress=[
        rule("Deny", [ns("y")], [{"destinationNamedPort": "serve-80-udp"}])]))
    check(e, port, proto, Reachability(True).expect("y/*", "x/*", not denied))


@pytest.mark.parametrize("port, proto, denied", [(80, "TCP", True), (81, "TCP", True), (82, "TCP", False),
                                                 (80, "UDP", True), (81, "UDP", False), (80, "SCTP", False)])
def test_protocols_ranges_and_numbers(port, proto, denied):
    e = engine(cnp("ports", "Admin", 10, ns("x"), egress=[out("Deny", [ns("y")], [
        {"tcp": {"destinationPort": {"range": {"start": 80, "end": 81}}}},
        {"udp": {"destinationPort": {"number": 80}}}])]))
    check(e, port, proto, Reachability(True).expect("x/*", "y/*", not denied))


def test_protocol_without_destination_port_is_every_port_of_it():
    e = experimental(cnp("udp", "Admin", 10, ns("x"), egress=[out("Deny", [ns("y")], [{"udp": {}}])]))
    check(e, 81, "UDP", Reachability(True).expect("x/*", "y/*", False))
    check(e, 81, "TCP", Reachability(True))


def test_failed_closed_peer():
    """A peer with no known field: an Accept rule matches nothing, a Deny rule denies every peer (the API's text)."""
    deny = experimental(cnp("unknown", "Admin", 10, ns("x"), ingress=[rule("Deny", [{"services": {}}])]))
    check(deny, 80, "TCP", Reachability(True).expect("*", "x/*", False))
    accept = experimental(DENY_ALL_INGRESS_X,
                          cnp("unknown", "Admin", 10, ns("x"), ingress=[rule("Accept", [{"x": 1}])]))
    check(accept, 80, "TCP", Reachability(True).expect("*", "x/*", False))
    assert any("failed closed" in w for w in deny.warnings)


# ------------------------------------------------------------------------------------------------ v1alpha1 kinds


def test_v1alpha1_admin_and_baseline_policies_through_the_loader():
    e = engine(
        DENY_ALL_INGRESS_X,
        anp("allow-y-web", 10, ns("x"), ingress=[
            {"action": "Allow", "from": [ns("y")], "ports": [{"portNumber": {"port": 80}}]},
            {"action": "Deny", "from": [ns("z")]}]),
        banp(ns("y"), ingress=[{"action": "Deny", "from": [ns("z")]}]),
    )
    check(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("y/*", "x/*", True)
          .expect("z/*", "y/*", False))
    check(e, 81, "TCP", Reachability(True).expect("*", "x/*", False).expect("z/*", "y/*", False))


def test_the_loader_reads_experimental_channel_fields():
    """The loader checks cluster policies against the network-policy-api CRDs, experimental channel included, so
    node and domain-name peers and named ports reach the engine through it (and are warned about when unmodelled)."""
    e = engine(cnp("nodes", "Admin", 10, ns("x"), egress=[out("Deny", [{"nodes": {}}])],
                   ingress=[rule("Deny", [ns("y")], [{"destinationNamedPort": "serve-80-udp"}])]))
    check(e, 80, "UDP", Reachability(True).expect("y/*", "x/*", False))
    assert [w for w in e.warnings if "nodes peers are not modelled" in w]


def test_the_loader_refuses_what_no_crd_accepts():
    with pytest.raises(ManifestError) as exc:
        engine(cnp("unknown", "Admin", 10, ns("x"), ingress=[rule("Deny", [{"services": {}}])]))
    assert exc.value.problems == ["<memory> doc 13: spec.ingress[0].from[0].services: unknown field"]


def test_v1alpha1_admin_and_baseline_policies_with_named_ports():
    e = experimental(
        DENY_ALL_INGRESS_X,
        anp("allow-y-web", 10, ns("x"), ingress=[
            {"action": "Allow", "from": [ns("y")], "ports": [{"portNumber": {"port": 80}},
                                                              {"namedPort": "serve-81-udp"}]},
            {"action": "Pass", "from": [ns("z")], "ports": [{"portRange": {"protocol": "UDP", "start": 80, "end": 90}}]},
            {"action": "Deny", "from": [ns("z")]}]),
        banp(ns("y"), ingress=[{"action": "Deny", "from": [ns("z")]}]),
    )
    check(e, 80, "TCP", Reachability(True).expect("*", "x/*", False).expect("y/*", "x/*", True)
          .expect("z/*", "y/*", False))
    check(e, 81, "UDP", Reachability(True).expect("*", "x/*", False).expect("y/*", "x/*", True)
          .expect("z/*", "y/*", False))
    check(e, 81, "TCP", Reachability(True).expect("*", "x/*", False).expect("z/*", "y/*", False))


def test_v1beta1_cluster_network_policy_reads_like_v1alpha2():
    e = engine(cnp("deny-y", "Admin", 10, ns("x"), ingress=[rule("Deny", [ns("y")])], version="v1beta1"))
    check(e, 80, "TCP", Reachability(True).expect("y/*", "x/*", False))


# ------------------------------------------------------------------------------------------------ ties, explain


def test_equal_priorities_that_disagree_are_warned_about():
    e = engine(cnp("a-deny", "Admin", 10, ns("x"), ingress=[rule("Deny", [ns("y")])]),
               cnp("b-accept", "Admin", 10, ns("x"), ingress=[rule("Accept", [ns("y")])]))
    assert [w for w in e.warnings if "same priority 10" in w]
    check(e, 80, "TCP", Reachability(True).expect("y/*", "x/*", False))  # first by name: a-deny
    v = e.verdict("y/a", "x/a", 80)
    assert v.ingress.ties and "ClusterNetworkPolicy/a-deny" in v.ingress.ties[0]


def test_equal_priorities_with_disjoint_peers_are_not_a_tie():
    """Upstream CNPAdminTierSamePriority: same subject, disjoint peers, all applied."""
    e = engine(cnp("deny-y", "Admin", 15, ns("x"), ingress=[rule("Deny", [ns("y")], [tcp(80)])]),
               cnp("deny-z", "Admin", 15, ns("x"), ingress=[rule("Deny", [ns("z")], [tcp(80)])]),
               cnp("y-deny-z", "Admin", 15, ns("y"), ingress=[rule("Deny", [ns("z")], [tcp(81)])]))
    assert not e.warnings
    check(e, 80, "TCP", Reachability(True).expect("y/*", "x/*", False).expect("z/*", "x/*", False))
    check(e, 81, "TCP", Reachability(True).expect("z/*", "y/*", False))


def test_explain_names_the_deciding_cluster_policy_tier_priority_and_rule():
    e = engine(DENY_ALL_INGRESS_X,
               cnp("tenants", "Admin", 10, ns("x"), ingress=[rule("Pass", [ns("x")], name="own-namespace"),
                                                             rule("Deny", [ALL_NS], name="other-namespaces")]))
    v = e.verdict("y/a", "x/b", 80)
    assert not v.allowed and v.ingress.decided_by == "admin"
    r = v.ingress.admin_rule
    assert (r.policy, r.tier, r.priority, r.rule, r.name, r.action, r.peer) == (
        "ClusterNetworkPolicy/tenants", "Admin", 10, 1, "other-namespaces", "Deny", 0)
    text = verdict_text(v)
    assert ("decided by ClusterNetworkPolicy/tenants (Admin tier, priority 10) ingress rule 1 'other-namespaces': "
            "Deny from[0] all pods in all namespaces; any port") in text
    v = e.verdict("x/a", "x/b", 80)
    assert v.ingress.decided_by == "networkpolicy" and v.ingress.admin_rule.action == "Pass"
    assert "passed by ClusterNetworkPolicy/tenants (Admin tier, priority 10) ingress rule 0 'own-namespace'" in \
        verdict_text(v)
