"""The conformance truth tables' inputs as data: each case is some NetworkPolicies (and a few extra objects) over the
x, y, z / a, b, c cluster of `base_objects()`.

Two suites read them: tests/analysis/reachability/test_conformance.py states the matrix the API demands for each
case and checks the engine against it; tests/lab/test_conformance.py applies each case to a real kube-apiserver
with kube-router enforcing it and checks the engine against real packets (`tenancy lab verify`). A case here is
therefore anything a real cluster can hold: cases about what manifests cannot express (an undeclared namespace)
stay inline in the engine tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from .helpers import base_objects, netpol, ns_obj, pod_obj


@dataclass(frozen=True)
class Case:
    name: str
    policies: tuple[dict, ...]
    extra: tuple[dict, ...] = ()  # objects besides base_objects() the policies need (more pods, a namespace)

    def objects(self) -> list[dict]:
        return base_objects() + list(self.extra) + list(self.policies)


DENY_ALL_INGRESS_X = netpol("x", "deny-ingress", {"podSelector": {}})
DENY_ALL_EGRESS_X = netpol("x", "deny-egress", {"podSelector": {}, "policyTypes": ["Egress"]})


def _case(name: str, *policies: dict, extra: tuple[dict, ...] = ()) -> Case:
    return Case(name, tuple(policies), extra)


CASE_LIST: list[Case] = [
    _case("default-deny-ingress", DENY_ALL_INGRESS_X),
    _case("default-deny-egress", DENY_ALL_EGRESS_X),
    _case("allow-from-same-namespace",
          netpol("x", "same-ns", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]})),
    _case("pod-selector-targets-matching-pods", netpol("x", "a-from-b", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}],
    })),
    _case("namespace-and-pod-selector-in-one-peer", netpol("x", "and", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}},
                               "podSelector": {"matchLabels": {"pod": "b"}}}]}],
    })),
    _case("namespace-and-pod-selector-in-two-peers", netpol("x", "or", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}},
                              {"podSelector": {"matchLabels": {"pod": "b"}}}]}],
    })),
    _case("empty-namespace-selector", netpol("x", "all-ns-b", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"pod": "b"}}}]}],
    })),
    _case("absent-namespace-selector", netpol("x", "own-ns-b", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}],
    })),
    _case("match-expressions-not-in-and-does-not-exist", netpol("x", "exprs", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [
            {"from": [{"namespaceSelector": {"matchExpressions": [{"key": "ns", "operator": "NotIn",
                                                                   "values": ["x", "z"]}]},
                       "podSelector": {"matchExpressions": [{"key": "pod", "operator": "In",
                                                             "values": ["b", "c"]}]}}]},
            {"from": [{"namespaceSelector": {},
                       "podSelector": {"matchExpressions": [{"key": "pod", "operator": "DoesNotExist"}]}}]},
        ],
    }), extra=(pod_obj("y", "d", labels={"other": "1"}),)),
    _case("not-in-matches-objects-without-the-key", netpol("x", "notin", {
        "podSelector": {"matchExpressions": [{"key": "pod", "operator": "NotIn", "values": ["a", "b"]}]},
        "ingress": [],
    }), extra=(pod_obj("x", "d", labels={"other": "1"}),)),
    _case("exists-selects-by-key", netpol("x", "exists", {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{"key": "ns", "operator": "Exists"}]},
                               "podSelector": {"matchLabels": {"pod": "c"}}}]}],
    })),
    _case("named-port-per-protocol", netpol("x", "named", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": "serve-80-tcp"}]}],
    })),
    _case("named-port-with-wrong-protocol", netpol("x", "wrong-proto", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": "serve-80-udp", "protocol": "TCP"}]}],
    })),
    _case("named-port-udp", netpol("x", "named-udp", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": "serve-81-udp", "protocol": "UDP"}]}],
    })),
    _case("named-port-differs-per-destination", netpol("w", "http", {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"ports": [{"port": "http"}]}],
    }), extra=(ns_obj("w"),
               pod_obj("w", "web1", {"app": "web"}, [("http", 8080, "TCP")]),
               pod_obj("w", "web2", {"app": "web"}, [("http", 9090, "TCP")]))),
    _case("named-port-on-egress", netpol("x", "egress-named", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": "serve-81-tcp"}]}],
    })),
    _case("numeric-port-and-end-port", netpol("x", "range", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": 80, "endPort": 81, "protocol": "TCP"}]}],
    })),
    _case("protocol-defaults-to-tcp",
          netpol("x", "port-80", {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]})),
    *[_case(f"{proto.lower()}-rule-does-not-open-tcp", netpol("x", "proto-only", {
        "podSelector": {},
        "ingress": [{"ports": [{"port": 81, "protocol": proto}]}],
    })) for proto in ("UDP", "SCTP")],
    _case("protocol-without-port",
          netpol("x", "all-udp", {"podSelector": {}, "ingress": [{"ports": [{"protocol": "UDP"}]}]})),
    _case("ports-and-peers-on-separate-rules", netpol("x", "two-rules", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]},
                    {"ports": [{"port": 81}]}],
    })),
    _case("policy-types-default-with-egress-rules", netpol("x", "egress-only-rules", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}],
    })),
    _case("policy-types-default-with-empty-egress",
          netpol("x", "empty-egress", {"podSelector": {"matchLabels": {"pod": "a"}}, "egress": []})),
    _case("explicit-egress-type-ignores-ingress-rules", netpol("x", "egress-type", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Egress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}],
        "egress": [{"to": [{"podSelector": {"matchLabels": {"pod": "c"}}}]}],
    })),
    _case("explicit-ingress-type-ignores-egress-rules", netpol("x", "ingress-type", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Ingress"],
        "egress": [{"to": [{"podSelector": {"matchLabels": {"pod": "c"}}}]}],
    })),
    _case("rule-without-from", netpol("x", "open", {"podSelector": {}, "ingress": [{}]})),
    _case("rule-with-empty-from", netpol("x", "empty-from", {"podSelector": {}, "ingress": [{"from": []}]})),
    _case("empty-ingress-rule-list", netpol("x", "no-rules", {"podSelector": {}, "ingress": []})),
    _case("egress-and-ingress-both-required",
          netpol("x", "a-egress-to-y", {
              "podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
              "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}],
          }),
          netpol("y", "b-from-x-b", {
              "podSelector": {"matchLabels": {"pod": "b"}},
              "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "x"}},
                                     "podSelector": {"matchLabels": {"pod": "b"}}}]}],
          })),
    _case("union-of-policies",
          netpol("x", "from-y", {"podSelector": {"matchLabels": {"pod": "a"}},
                                 "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}]}),
          netpol("x", "from-z-81", {"podSelector": {"matchLabels": {"pod": "a"}},
                                    "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "z"}}}],
                                                 "ports": [{"port": 81}]}]}),
          DENY_ALL_INGRESS_X),
    _case("ip-block-with-except-on-ingress", netpol("x", "cidr", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                              {"ipBlock": {"cidr": "2001:db8::/32"}}]}],
    })),
    _case("ip-block-on-egress-carves-cluster-ranges", netpol("x", "internet-only", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}}],
                    "ports": [{"port": 443}]}],
    })),
    _case("ip-block-ipv6-does-not-match-ipv4", netpol("x", "v6-all", {
        "podSelector": {},
        "ingress": [{"from": [{"ipBlock": {"cidr": "::/0"}}]}],
    })),
    _case("selector-peers-never-match-external-addresses", netpol("x", "all-pods", {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {}}]}],
    })),
    _case("declared-namespace-carries-name-label", netpol("x", "from-y", {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "y"}}}]}],
    })),
    _case("policy-selects-only-its-own-namespace",
          netpol("y", "selects-pod-a", {"podSelector": {"matchLabels": {"pod": "a"}}})),
    _case("default-deny-all-both-directions",
          netpol("x", "deny-all", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})),
    _case("allow-all-ingress-beats-deny", DENY_ALL_INGRESS_X,
          netpol("x", "allow-all", {"podSelector": {}, "ingress": [{}]})),
    _case("allow-all-egress-with-default-types", DENY_ALL_EGRESS_X,
          netpol("x", "allow-all-egress", {"podSelector": {}, "egress": [{}]})),
    _case("allow-all-egress-beats-deny", DENY_ALL_EGRESS_X,
          netpol("x", "allow-all-egress", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]})),
    _case("ip-in-one-policys-except-allowed-by-another",
          netpol("x", "wide-minus-hole", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [
              {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.5/32"]}}]}]}),
          netpol("x", "hole-itself", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [
              {"from": [{"ipBlock": {"cidr": "10.0.0.5/32"}}]}]})),
    _case("ingress-and-egress-rules-independent", netpol("x", "both", {
        "podSelector": {"matchLabels": {"pod": "a"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "z"}}}], "ports": [{"port": 81}]}],
    })),
    _case("namespace-name-label-in-on-named-sctp-port", netpol("x", "from-y-z-named", {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["y", "z"]}]}}],
            "ports": [{"port": "serve-81-sctp", "protocol": "SCTP"}]}],
    })),
    _case("egress-to-other-namespace-pod-by-and-selector", netpol("x", "a-to-y-b", {
        "podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"ns": "y"}},
                            "podSelector": {"matchLabels": {"pod": "b"}}}]}],
    })),
]

CASES: dict[str, Case] = {c.name: c for c in CASE_LIST}
assert len(CASES) == len(CASE_LIST), "case names must be unique"
