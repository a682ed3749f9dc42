"""kube.endpoints: every written form parses to its kind and writes back unchanged."""

from __future__ import annotations

import ipaddress

import pytest

from kube.endpoints import Endpoint, EndpointKind


@pytest.mark.parametrize("text, kind, namespace, name", [
    ("acme/shop-backend", EndpointKind.WORKLOAD, "acme", "shop-backend"),
    ("ip:203.0.113.7", EndpointKind.ADDRESS, None, "203.0.113.7"),
    ("ip:2001:db8::10", EndpointKind.ADDRESS, None, "2001:db8::10"),
    ("cidr:203.0.113.0/24", EndpointKind.BLOCK, None, "203.0.113.0/24"),
    ("ns:acme", EndpointKind.NAMESPACE, "acme", "acme"),
])
def test_each_form_parses_to_its_kind_and_round_trips(text, kind, namespace, name):
    endpoint = Endpoint.parse(text)
    assert (endpoint.kind, endpoint.namespace, endpoint.name) == (kind, namespace, name)
    assert str(endpoint) == text
    assert endpoint.is_external is (kind in (EndpointKind.ADDRESS, EndpointKind.BLOCK))
    assert endpoint.is_address is (kind is EndpointKind.ADDRESS)


@pytest.mark.parametrize("text", ["shop-backend", "/shop", "acme/", ""])
def test_text_of_no_form_is_refused_naming_the_forms(text):
    with pytest.raises(ValueError, match="namespace/workload, ip:<address> or cidr:<block>"):
        Endpoint.parse(text)


def test_address_is_parsed_only_for_addresses():
    assert Endpoint.parse("ip:192.0.2.10").address() == ipaddress.ip_address("192.0.2.10")
    with pytest.raises(ValueError):
        Endpoint.parse("acme/shop").address()


def test_workload_constructor_matches_parse():
    assert Endpoint.workload("acme", "shop-frontend") == Endpoint.parse("acme/shop-frontend")


@pytest.mark.parametrize("text, group", [
    ("acme/shop-backend", "acme"), ("ns:acme", "acme"), ("ip:203.0.113.7", "ip:203.0.113.7"),
    ("cidr:203.0.113.0/24", "cidr:203.0.113.0/24"),
])
def test_group_is_the_namespace_or_the_external_endpoint_itself(text, group):
    assert Endpoint.parse(text).group == group


def test_constructors_write_what_parse_reads():
    assert str(Endpoint.namespace_node("acme")) == "ns:acme"
    assert str(Endpoint.of_address(ipaddress.ip_address("2001:db8::1"))) == "ip:2001:db8::1"


def test_parse_or_none_is_parse_without_the_error():
    assert Endpoint.parse_or_none("acme/shop") == Endpoint.parse("acme/shop")
    assert Endpoint.parse_or_none("shop") is None
