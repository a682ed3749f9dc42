"""Name and label syntax at the API server's boundaries (apimachinery's validation), as the loader applies it."""

from __future__ import annotations

import pytest

from kube import names
from analysis.reachability.ports import is_port_name

OK = None


@pytest.mark.parametrize("kind, name, valid", [
    ("Namespace", "a" * 63, True), ("Namespace", "a" * 64, False), ("Namespace", "acme.prod", False),
    ("NetworkPolicy", "allow.dns-egress", True), ("NetworkPolicy", "a" * 253, True), ("NetworkPolicy", "a" * 254, False),
    ("NetworkPolicy", "-deny", False), ("NetworkPolicy", "deny-", False), ("NetworkPolicy", "Deny", False),
    ("Service", "1st-frontend", False), ("Service", "frontend-1", True),  # DNS-1035: a letter first
    ("Deployment", "1st-frontend", True),  # DNS-1123 subdomain: a digit may lead
    ("CronJob", "a" * 52, True), ("CronJob", "a" * 53, False),  # room for the Job suffix
    ("RoleBinding", "system:tenant-owners", True), ("RoleBinding", "a/b", False), ("ClusterRole", "..", False),
])
def test_object_names_per_kind(kind, name, valid):
    assert (names.name(kind, name) is None) is valid


@pytest.mark.parametrize("key, valid", [
    ("app.kubernetes.io/name", True), ("k8s-app", True), ("tenancy/tenant", True), ("Under_Score.ok", True),
    ("a" * 63, True), ("a" * 64, False), ("example.com/" + "a" * 63, True), ("/name", False), ("prefix/", False),
    ("Example.com/name", False),  # the prefix is a lowercase DNS subdomain
    ("tenancy/tenant/name", False), ("-leading", False), ("has space", False),
])
def test_label_keys(key, valid):
    assert (names.qualified_name(key) is None) is valid


@pytest.mark.parametrize("value, valid", [
    ("", True), ("frontend", True), ("v1.2_3-rc", True), ("a" * 63, True), ("a" * 64, False),
    ("front end", False), ("-x", False), ("x.", False),
])
def test_label_values(value, valid):
    assert (names.label_value(value) is None) is valid


@pytest.mark.parametrize("name, valid", [
    ("metrics", True), ("http-alt", True), ("a" * 15, True), ("a" * 16, False), ("8080", False),
    ("http--alt", False), ("-http", False), ("HTTP", False), ("h2c", True),
])
def test_named_ports_are_iana_service_names(name, valid):
    assert is_port_name(name) is valid


def test_reasons_say_what_is_wrong():
    assert names.dns1123_label("a" * 64) == "must be at most 63 characters (is 64)"
    assert names.qualified_name("Bad Prefix/x").startswith("has prefix 'Bad Prefix' that must be")
    assert names.name("Service", "1st") == ("must be a lowercase RFC 1035 label (a-z, 0-9 and '-', starting with a "
                                            "letter, ending with a letter or digit)")
