"""Unit tests for the one-place primitives: selectors, ports/PortSet, ipBlocks."""

from __future__ import annotations

import ipaddress

import pytest

from analysis.reachability.ipblocks import parse_address, parse_ip_block
from analysis.reachability.ports import PortSet, parse_port_spec, parse_protocol_port, port_match_bits
from analysis.reachability.selectors import LabelIndex, parse_selector


def sel(obj):
    problems: list[str] = []
    s = parse_selector(obj, "sel", problems)
    assert not problems, problems
    return s


LABEL_SETS = [{"app": "web", "tier": "fe"}, {"app": "db"}, {}, {"tier": "be", "app": "web"}]


@pytest.mark.parametrize("selector, expected", [
    ({}, [True, True, True, True]),
    ({"matchLabels": {"app": "web"}}, [True, False, False, True]),
    ({"matchLabels": {"app": "web", "tier": "fe"}}, [True, False, False, False]),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "db"]}]}, [True, True, False, True]),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, [False, True, True, False]),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, [True, False, False, True]),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, [False, True, True, False]),
    ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["fe"]}]},
     [False, False, False, True]),
])
def test_selector_matching_single_and_bitset_agree(selector, expected):
    s = sel(selector)
    assert [s.matches(ls) for ls in LABEL_SETS] == expected
    bits = LabelIndex(LABEL_SETS).select(s)
    assert [bool(bits >> i & 1) for i in range(len(LABEL_SETS))] == expected


@pytest.mark.parametrize("selector, message", [
    ({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}, "invalid operator 'Equals'"),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "must be non-empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "must be empty"),
    ({"matchExpressions": [{"operator": "Exists"}]}, "key: required"),
    ({"matchLabels": ["a"]}, "expected a mapping"),
])
def test_selector_errors_name_the_field(selector, message):
    problems: list[str] = []
    parse_selector(selector, "spec.podSelector", problems)
    assert len(problems) == 1 and message in problems[0] and problems[0].startswith("spec.podSelector.")


def test_selector_describes_misses():
    s = sel({"matchLabels": {"app.kubernetes.io/component": "backend", "part-of": "shop"}})
    misses = s.misses({"app.kubernetes.io/component": "frontend", "part-of": "shop"})
    assert [m.describe_miss({"app.kubernetes.io/component": "frontend"}) for m in misses] == \
        ["has app.kubernetes.io/component=frontend"]
    assert str(s) == "app.kubernetes.io/component=backend, part-of=shop"


def test_label_values_that_are_not_strings_are_refused_like_the_api_server_does():
    problems: list[str] = []
    parse_selector({"matchLabels": {"enabled": True, "version": 2},
                    "matchExpressions": [{"key": "tier", "operator": "In", "values": [3]}]}, "s", problems)
    assert problems == [
        "s.matchLabels['enabled']: label value true must be a string; YAML reads it unquoted as a boolean, which "
        "the API server refuses (quote it: 'true')",
        "s.matchLabels['version']: label value 2 must be a string; YAML reads it unquoted as a number, which the "
        "API server refuses (quote it: '2')",
        "s.matchExpressions[0].values[0]: label value 3 must be a string; YAML reads it unquoted as a number, which "
        "the API server refuses (quote it: '3')",
    ]


# ---------------------------------------------------------------------------------------------------- ports

def spec(obj):
    problems: list[str] = []
    s = parse_port_spec(obj, "p", problems)
    assert not problems, problems
    return s


NAMED = {("http", "TCP"): frozenset({8080}), ("dns", "UDP"): frozenset({53})}


@pytest.mark.parametrize("obj, port, proto, named, expected", [
    ({"port": 80}, 80, "TCP", None, True),
    ({"port": 80}, 80, "UDP", None, False),  # protocol defaults to TCP
    ({"port": 80, "endPort": 90}, 90, "TCP", None, True),
    ({"port": 80, "endPort": 90}, 91, "TCP", None, False),
    ({"protocol": "SCTP"}, 4444, "SCTP", None, True),
    ({"port": "http"}, 8080, "TCP", NAMED, True),
    ({"port": "http"}, 8080, "TCP", None, False),  # externals have no named ports
    ({"port": "http", "protocol": "UDP"}, 8080, "UDP", NAMED, False),
    ({"port": "dns", "protocol": "UDP"}, 53, "UDP", NAMED, True),
])
def test_port_spec_matching(obj, port, proto, named, expected):
    s = spec(obj)
    assert s.matches(port, proto, named) is expected
    # Bitset form: destination 0 has `named`, "everyone" is 0b1.
    bits = port_match_bits((s,), port, proto, 0b1, {n: 0b1 for (n, p), nums in (named or {}).items()
                                                    if p == proto and port in nums})
    assert bool(bits) is expected


@pytest.mark.parametrize("obj, message", [
    ({"port": 0}, "out of range"),
    ({"port": 70000}, "out of range"),
    ({"port": 80, "endPort": 70}, "less than port"),
    ({"port": "http", "endPort": 90}, "requires a numeric port"),
    ({"endPort": 90}, "requires a numeric port"),
    ({"port": 80, "protocol": "ICMP"}, "invalid protocol"),
    ({"port": "Not_A_Name"}, "invalid named port"),
    ({"port": "80"}, "invalid named port"),
])
def test_port_spec_errors(obj, message):
    problems: list[str] = []
    assert parse_port_spec(obj, "spec.ingress[0].ports[0]", problems) is None
    assert any(message in p for p in problems), problems


def test_portset_formatting_and_algebra():
    assert str(PortSet.all()) == "all"
    assert str(PortSet()) == "none"
    a = PortSet({"TCP": [(8000, 8080)], "UDP": [(53, 53)]})
    assert str(a) == "TCP 8000-8080, UDP 53"
    assert str(PortSet({"TCP": [(5432, 5432)]})) == "TCP 5432"
    assert str(PortSet({"UDP": [(1, 65535)]})) == "UDP all"
    assert PortSet({"TCP": [(1, 5), (6, 10)]}) == PortSet({"TCP": [(1, 10)]})
    assert (a & PortSet({"TCP": [(8080, 9000)]})) == PortSet({"TCP": [(8080, 8080)]})
    assert (a | PortSet({"TCP": [(8081, 8081)]})) == PortSet.parse("TCP 8000-8081, UDP 53")
    assert (8050, "TCP") in a and (8050, "UDP") not in a
    for text in ["all", "TCP 5432", "TCP 8000-8080, UDP 53", "TCP 1, 3-4, SCTP all"]:
        assert str(PortSet.parse(text)) == text
    assert a != PortSet.all() and a == PortSet.parse("TCP 8000-8080, UDP 53")
    assert a != "TCP 8000-8080, UDP 53"  # text is text: equal objects must hash alike


def test_cli_port_parsing():
    assert parse_protocol_port("80") == (80, "TCP")
    assert parse_protocol_port("53/udp") == (53, "UDP")
    for bad in ["x/TCP", "80/ICMP", "0", "65536/TCP"]:
        with pytest.raises(ValueError):
            parse_protocol_port(bad)


# ---------------------------------------------------------------------------------------------------- ipBlocks

def block(obj):
    problems: list[str] = []
    b = parse_ip_block(obj, "b", problems)
    assert not problems, problems
    return b


def test_ip_block_contains_with_except_and_family():
    b = block({"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "10.2.3.0/24"]})
    ip = ipaddress.ip_address
    assert b.contains(ip("10.0.0.1"))
    assert not b.contains(ip("10.1.2.3"))
    assert not b.contains(ip("10.2.3.4"))
    assert b.contains(ip("10.2.4.4"))
    assert not b.contains(ip("11.0.0.1"))
    assert not b.contains(ip("::ffff:10.0.0.1"))  # an IPv6 address never matches an IPv4 block
    v6 = block({"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]})
    assert v6.contains(ip("2001:db8::1")) and not v6.contains(ip("2001:db8:1::1"))
    assert block({"cidr": "192.168.1.1/24"}).contains(ip("192.168.1.200"))  # host bits tolerated


@pytest.mark.parametrize("obj, message", [
    ({"cidr": "10.0.0/8"}, "invalid CIDR '10.0.0/8'"),
    ({"cidr": "10.0.0.1"}, "missing prefix length"),
    ({"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}, "strict subset"),
    ({"cidr": "10.0.0.0/8", "except": ["10.0.0.0/8"]}, "strict subset"),
    ({"cidr": "10.0.0.0/8", "except": ["2001:db8::/32"]}, "strict subset"),
    ({}, "cidr: required"),
])
def test_ip_block_errors(obj, message):
    problems: list[str] = []
    assert parse_ip_block(obj, "spec.ingress[0].from[0].ipBlock", problems) is None
    assert any(message in p for p in problems), problems


def test_addresses():
    assert str(parse_address("ip:10.0.0.1")) == "10.0.0.1"
    assert str(parse_address("2001:DB8::1")) == "2001:db8::1"
    with pytest.raises(ValueError):
        parse_address("ip:10.0.0")


def test_portset_of_single_ports():
    assert PortSet.of("TCP", 443, 80) == PortSet.parse("TCP 80, TCP 443")
    assert PortSet.of(("UDP", "TCP"), 53) == PortSet.parse("TCP 53, UDP 53")
    assert PortSet.of("TCP") == PortSet()


SELECTORS = [
    {"matchLabels": {"app": "web", "tier": "frontend"}},
    {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                          {"key": "app", "operator": "Exists"}]},
    {"matchExpressions": [{"key": "app", "operator": "Exists", "values": []}]},
    {"matchExpressions": [{"key": "app", "operator": "In", "values": []}]},  # refused: In needs values
    {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]},  # refused: Exists has none
    {"matchExpressions": [{"key": {"not": "a string"}, "operator": "In", "values": ["x"]}]},
    {"matchExpressions": [{"key": "app", "operator": "In", "values": "web"}]},
    {"matchLabels": {"app": 1}},
]


@pytest.mark.parametrize("selector", SELECTORS)
def test_a_selector_seen_again_parses_as_it_did_the_first_time(selector):
    # The second reading takes the shortcut for label keys and values already seen valid; it must not differ.
    first: list[str] = []
    second: list[str] = []
    assert parse_selector(selector, "sel", first) == parse_selector(selector, "sel", second)
    assert first == second
