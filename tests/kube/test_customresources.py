"""Cluster policies are validated as the API server validates them, from network-policy-api's own CRDs.

The proofs, each against the upstream text rather than a restatement of it:
- upstream's CRD test corpus (pkg/crdtest/testdata, standard channel) and every standard conformance manifest
  get the verdict upstream gives them;
- the CIDR parsing behind the CRDs' CEL rules matches Go's net/netip (the golden file is the output of
  tests/kube/crds/netip_golden.go, run on the Go toolchain);
- each natively evaluated CEL rule agrees with cel-python's evaluation of the rule's own text from the CRD;
- one broken field at a time is refused with a message naming the field.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kube import customresources as cr

HERE = Path(__file__).resolve().parent / "crds"


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _rules(schema: Any) -> list[str]:
    out: list[str] = []
    if isinstance(schema, dict):
        out += [v["rule"] for v in schema.get("x-kubernetes-validations", ())]
        for value in schema.values():
            out += _rules(value)
    elif isinstance(schema, list):
        for value in schema:
            out += _rules(value)
    return out


# --------------------------------------------------------------------------------------------- shipped CRDs

@pytest.mark.parametrize("channel", [cr.STANDARD, cr.EXPERIMENTAL])
def test_shipped_crds_serve_the_targeted_versions(channel: str) -> None:
    served = {(api, kind): (v.release, v.channel) for (api, kind), v in cr.served(channel).items()}
    assert served == {
        ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"): ("network-policy-api v0.3.0", channel),
        ("policy.networking.k8s.io/v1beta1", "ClusterNetworkPolicy"): ("network-policy-api v0.3.0", channel),
        ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"): ("network-policy-api v0.1.7", channel),
        ("policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy"): ("network-policy-api v0.1.7", channel),
    }


def test_every_rule_of_the_shipped_crds_is_evaluated_natively() -> None:
    rules = {rule for channel in (cr.STANDARD, cr.EXPERIMENTAL) for version in cr.served(channel).values()
             for rule in _rules(version.schema)}
    assert rules == set(cr.NATIVE_RULES)
    assert len(rules) == 7


# --------------------------------------------------------------------------------------------- upstream corpus

def _channel(path: Path) -> str:
    return cr.EXPERIMENTAL if "experimental" in path.name else cr.STANDARD


@pytest.mark.parametrize("path", sorted((HERE / "upstream" / "valid").glob("*.yaml")), ids=lambda p: p.name)
def test_upstream_valid_examples_are_accepted(path: Path) -> None:
    for doc in _docs(path):
        assert cr.problems(doc, _channel(path)) == []
        assert cr.problems(doc, cr.EXPERIMENTAL) == []  # a superset


UPSTREAM_INVALID = {
    "cidr-invalid.yaml": ["spec.egress[0].to[0].networks[0]: Invalid CIDR format provided"],
    "invalid-ingress-action.yaml": [
        "spec.ingress[0].action: unsupported value 'Invalid' (expected one of Accept, Deny, Pass)",
        "spec.ingress[0].from[0].namespaces.namespaceSelector: unknown field",
        cr.BLOCKED_NOTE,
    ],
    "port-range-invalid-equal.yaml": [
        "spec.egress[0].protocols[0].tcp.destinationPort.range: Start port must be less than End port"],
    "port-range-invalid-greater.yaml": [
        "spec.egress[0].protocols[0].tcp.destinationPort.range: Start port must be less than End port"],
    "egress-peer-namedport-conflict.experimental.yaml": [
        "spec.egress[0]: networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts "
        "for networks/nodes/domainNames"],
}


def test_upstream_invalid_examples_are_refused_with_their_reason() -> None:
    found = {p.name: cr.problems(_docs(p)[0], _channel(p))
             for p in sorted((HERE / "upstream" / "invalid").glob("*.yaml"))}
    assert found == UPSTREAM_INVALID


def test_experimental_fields_are_unknown_to_the_standard_channel() -> None:
    named = _docs(HERE / "upstream" / "valid" / "deny-with-named-ports.experimental.yaml")[0]
    assert cr.problems(named, cr.STANDARD) == [
        "spec.ingress[0].protocols[0].destinationNamedPort: unknown field",
        "spec.ingress[0].protocols[1].destinationNamedPort: unknown field"]


@pytest.mark.parametrize("path", sorted((HERE / "conformance").glob("*.yaml")), ids=lambda p: p.name)
def test_upstream_conformance_manifests_are_accepted(path: Path) -> None:
    policies = [d for d in _docs(path) if cr.is_custom_resource(d)]
    assert policies
    for doc in policies:
        assert cr.problems(doc, _channel(path)) == [], doc["metadata"]["name"]


# --------------------------------------------------------------------------------------------- CEL and netip

def _golden() -> list[dict]:
    return [json.loads(line) for line in (HERE / "netip-prefixes.jsonl").read_text(encoding="utf-8").splitlines()]


def test_cidr_parsing_matches_go_netip() -> None:
    mismatches = []
    for case in _golden():
        try:
            cidr = cr.parse_cidr(case["input"])
        except ValueError:
            if case["valid"]:
                mismatches.append((case["input"], "refused, Go accepts"))
            continue
        if not case["valid"]:
            mismatches.append((case["input"], "accepted, Go refuses"))
        elif (str(cr.masked(cidr)), cr.masked(cidr) == cidr) != (case["masked"], case["equalsMasked"]):
            mismatches.append((case["input"], f"masked {cr.masked(cidr)}, Go {case['masked']}"))
    assert len(_golden()) > 300
    assert mismatches == []


def _both(rule: str, value: Any) -> tuple[Any, Any]:
    def run(native: bool) -> Any:
        try:
            return cr.evaluate_rule(rule, value, native=native)
        except cr.RuleError:
            return "error"
    return run(True), run(False)


@pytest.mark.parametrize("rule", ["isCIDR(self)", "isCIDR(self) && cidr(self) == cidr(self).masked()"])
def test_cidr_rules_agree_with_cel_python_on_the_golden_strings(rule: str) -> None:
    results = [(case["input"], *_both(rule, case["input"])) for case in _golden()]
    disagreements = [r for r in results if r[1] != r[2]]
    assert disagreements == []


_octet = st.integers(0, 300).map(str)
_ipv4ish = st.builds(lambda a, b, c, d, bits: f"{a}.{b}.{c}.{d}/{bits}", _octet, _octet, _octet, _octet,
                     st.sampled_from(["0", "8", "16", "24", "32", "33", "08", ""]))
_ipv6ish = st.builds(lambda groups, cut, bits: ":".join(groups[:cut]) + ("::" if cut < 8 else "") + f"/{bits}",
                     st.lists(st.integers(0, 0xFFFF).map(lambda g: format(g, "x")), min_size=8, max_size=8),
                     st.integers(0, 8), st.sampled_from(["0", "48", "64", "127", "128", "129"]))


@settings(max_examples=150, deadline=None)
@given(st.one_of(_ipv4ish, _ipv6ish, st.text(max_size=20)))
def test_cidr_rules_agree_with_cel_python(value: str) -> None:
    for rule in ("isCIDR(self)", "isCIDR(self) && cidr(self) == cidr(self).masked()"):
        native, cel = _both(rule, value)
        assert native == cel, (rule, value)


_port_number = st.one_of(st.integers(1, 65535), st.none())


@settings(max_examples=200, deadline=None)
@given(_port_number, _port_number)
def test_port_range_rule_agrees_with_cel_python(start: int | None, end: int | None) -> None:
    value = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    native, cel = _both("self.start < self.end", value)
    assert native == cel


_peer = st.fixed_dictionaries({}, optional={k: st.just({}) for k in ("networks", "nodes", "domainNames", "pods")})
_port = st.fixed_dictionaries({}, optional={k: st.just("http") for k in ("destinationNamedPort", "namedPort", "tcp")})
_egress_rule = st.fixed_dictionaries({}, optional={
    "to": st.lists(_peer, max_size=3), "protocols": st.lists(_port, max_size=3), "ports": st.lists(_port, max_size=3)})


@settings(max_examples=150, deadline=None)
@given(_egress_rule)
def test_named_port_rules_agree_with_cel_python(value: dict) -> None:
    for rule in [r for r in cr.NATIVE_RULES if r.startswith("!(")]:
        native, cel = _both(rule, value)
        assert native == cel, (rule, value)


@pytest.mark.parametrize("metadata", [{"name": "default"}, {"name": "other"}, {"generateName": "x-"}, {}])
def test_baseline_singleton_rule_agrees_with_cel_python(metadata: dict) -> None:
    native, cel = _both("self.metadata.name == 'default'", {"metadata": metadata})
    assert native == cel


def test_a_rule_without_native_version_is_evaluated_by_cel_python() -> None:
    assert cr.evaluate_rule("self.size() <= 2 && prefixLength(cidr(self[0])) == 8", ["10.0.0.0/8"]) is True
    with pytest.raises(cr.RuleError):
        cr.evaluate_rule("self.missing == 1", {})


# --------------------------------------------------------------------------------------------- one mistake each

GOOD = {
    "apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
    "metadata": {"name": "tenancy-boundary.acme"},
    "spec": {
        "tier": "Admin", "priority": 110,
        "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "acme"}}},
        "ingress": [{"name": "deny-from-other-tenants", "action": "Deny", "from": [{"namespaces": {}}]}],
        "egress": [
            {"name": "pass-pods", "action": "Pass", "to": [{"namespaces": {}}],
             "protocols": [{"tcp": {"destinationPort": {"number": 8080}}}]},
            {"name": "deny-outside-cluster", "action": "Deny", "to": [{"networks": ["0.0.0.0/0", "::/0"]}]},
        ],
    },
}


def mutated(path: str, value: Any) -> dict:
    obj = copy.deepcopy(GOOD)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = obj
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return obj


DELETE = object()


def test_the_template_is_valid() -> None:
    assert cr.problems(GOOD, cr.STANDARD) == []


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("spec.priority", 1001, ["spec.priority: must be at most 1000 (is 1001)"]),
    ("spec.priority", -1, ["spec.priority: must be at least 0 (is -1)"]),
    ("spec.priority", "110", ["spec.priority: must be of type integer, got string", cr.BLOCKED_NOTE]),
    ("spec.tier", "admin", ["spec.tier: unsupported value 'admin' (expected one of Admin, Baseline)", cr.BLOCKED_NOTE]),
    ("spec.tier", DELETE, ["spec.tier: required"]),
    ("spec.subject", {}, ["spec.subject: exactly one of namespaces, pods must be set (has none)"]),
    ("spec.subject.pods", {"podSelector": {}},
     ["spec.subject: exactly one of namespaces, pods must be set (has namespaces, pods)"]),
    ("spec.ingress.0.action", "Allow",
     ["spec.ingress[0].action: unsupported value 'Allow' (expected one of Accept, Deny, Pass)", cr.BLOCKED_NOTE]),
    ("spec.ingress.0.from", [], ["spec.ingress[0].from: must have at least 1 item (has 0)"]),
    ("spec.ingress.0.from", [{"networks": ["10.0.0.0/8"]}], ["spec.ingress[0].from[0].networks: unknown field"]),
    ("spec.ingress.0.name", "x" * 101, ["spec.ingress[0].name: may be at most 100 characters (is 101)"]),
    ("spec.ingress", [GOOD["spec"]["ingress"][0]] * 26, ["spec.ingress: may have at most 25 items (has 26)"]),
    ("spec.egress.0.to", [{"namespaces": {}}] * 26, ["spec.egress[0].to: may have at most 25 items (has 26)"]),
    ("spec.egress.0.protocols.0", {"tcp": {"destinationPort": {"number": 0}}},
     ["spec.egress[0].protocols[0].tcp.destinationPort.number: must be at least 1 (is 0)"]),
    ("spec.egress.0.protocols.0", {"tcp": {}, "udp": {}},
     ["spec.egress[0].protocols[0]: exactly one of sctp, tcp, udp must be set (has tcp, udp)",
      "spec.egress[0].protocols[0].tcp: must have at least 1 field (has 0)",
      "spec.egress[0].protocols[0].udp: must have at least 1 field (has 0)"]),
    ("spec.egress.0.protocols.0", {"tcp": {"destinationPort": {"range": {"start": 9000, "end": 8000}}}},
     ["spec.egress[0].protocols[0].tcp.destinationPort.range: Start port must be less than End port"]),
    ("spec.egress.0.protocols.0", {"tcp": {"destinationNamedPort": "http"}},
     ["spec.egress[0].protocols[0].tcp.destinationNamedPort: unknown field"]),
    ("spec.egress.1.to.0.networks", ["10.1.2.3/8"], ["spec.egress[1].to[0].networks[0]: Invalid CIDR format provided"]),
    ("spec.egress.1.to.0.networks", ["::ffff:10.0.0.0/104"],
     ["spec.egress[1].to[0].networks[0]: Invalid CIDR format provided"]),
    ("spec.egress.1.to.0.networks", ["0.0.0.0/0", "0.0.0.0/0"],
     ["spec.egress[1].to[0].networks[1]: duplicate value '0.0.0.0/0' (same as spec.egress[1].to[0].networks[0])"]),
    ("spec.egress.1.to.0", {"nodes": {}}, ["spec.egress[1].to[0].nodes: unknown field"]),
    ("spec.ports", [], ["spec.ports: unknown field"]),
    ("metadata.labelz", {}, ["metadata.labelz: unknown field"]),
    ("apiVersion", "policy.networking.k8s.io/v1", [(
        "apiVersion: ClusterNetworkPolicy is served as policy.networking.k8s.io/v1alpha2, "
        "policy.networking.k8s.io/v1beta1 by network-policy-api v0.3.0's CRD, not 'policy.networking.k8s.io/v1'")]),
])
def test_one_mistake_is_refused_naming_its_field(path: str, value: Any, expected: list[str]) -> None:
    assert cr.problems(mutated(path, value), cr.STANDARD) == expected


def test_status_is_ignored_as_the_api_server_drops_it_on_create() -> None:
    assert cr.problems({**GOOD, "status": {"conditions": "not a list"}}) == []


def test_v1alpha1_defaults_are_applied_before_validation() -> None:
    anp = {
        "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy", "metadata": {"name": "a"},
        "spec": {"priority": 5, "subject": {"namespaces": {}},
                 "ingress": [{"action": "Allow", "from": [{"namespaces": {}}], "ports": [{"portNumber": {"port": 80}}]}]},
    }
    assert cr.problems(anp) == []  # protocol defaults to TCP, so `required` is met
    anp["spec"]["ingress"][0]["action"] = "Accept"
    assert cr.problems(anp)[0] == \
        "spec.ingress[0].action: unsupported value 'Accept' (expected one of Allow, Deny, Pass)"


def test_baseline_admin_network_policy_must_be_named_default() -> None:
    banp = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
            "metadata": {"name": "tenancy-baseline"}, "spec": {"subject": {"namespaces": {}}}}
    assert cr.problems(banp) == [
        'Only one baseline admin network policy with metadata.name="default" can be created in the cluster']
    banp["metadata"]["name"] = "default"
    assert cr.problems(banp) == []


def test_only_the_policy_group_is_claimed() -> None:
    assert cr.is_custom_resource(GOOD)
    assert not cr.is_custom_resource({**GOOD, "apiVersion": "crd.projectcalico.org/v1"})
    assert not cr.is_custom_resource({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"})


# --------------------------------------------------------------------------------------------- schema walk = jsonschema

@functools.cache
def _valid_corpus() -> list[tuple[dict, str]]:
    docs = [(d, _channel(p)) for p in sorted((HERE / "conformance").glob("*.yaml")) for d in _docs(p)
            if cr.is_custom_resource(d)]
    docs += [(d, _channel(p)) for p in sorted((HERE / "upstream" / "valid").glob("*.yaml")) for d in _docs(p)]
    return docs


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _leaves(v, (*path, i))
    return out


_junk = st.one_of(st.integers(-5, 70000), st.text(max_size=3), st.booleans(), st.just([]), st.just({}),
                  st.sampled_from(["Admin", "Accept", "Allow", "Pass", "10.0.0.0/8", "x" * 101]),
                  st.lists(st.just({"namespaces": {}}), min_size=26, max_size=26))


@functools.cache
def _jsonschema(channel: str, api_version: str, kind: str) -> Any:
    import jsonschema

    schema = copy.deepcopy(cr.served(channel)[(api_version, kind)].schema)
    schema["properties"].pop("status", None)
    return jsonschema.Draft4Validator(schema)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), _junk, st.booleans())
def test_schema_walk_agrees_with_jsonschema(which: int, where: int, junk: Any, delete: bool) -> None:
    """One mutation of a valid object: the walk flags exactly the (place, keyword) pairs jsonschema flags on the
    same schema (unknown fields, list sets and CEL are Kubernetes additions jsonschema does not know)."""
    obj, channel = _valid_corpus()[which % len(_valid_corpus())]
    obj = copy.deepcopy(obj)
    paths = [p for p in _leaves(obj) if p and p[0] == "spec"]
    path = paths[where % len(paths)]
    parent: Any = obj
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = junk
    node = cr._compiled(channel, obj["apiVersion"], obj["kind"])
    walk = cr._Walk()
    defaulted = walk.value(node, obj, "")
    errors = list(_jsonschema(channel, obj["apiVersion"], obj["kind"]).iter_errors(defaulted))
    theirs = {(cr.path_text(e.absolute_path), e.validator) for e in errors}
    typed = {p for p, k in theirs if k == "type"}
    theirs = {(p, k) for p, k in theirs if not (k == "enum" and p in typed)}  # a wrong type is not also checked
    assert set(walk.keywords) == theirs


def test_the_default_channel_refuses_only_what_no_installation_accepts() -> None:
    nodes = mutated("spec.egress.1.to.0", {"nodes": {"matchLabels": {"role": "db"}}})
    assert cr.problems(nodes) == []
    assert cr.problems(nodes, cr.STANDARD) == ["spec.egress[1].to[0].nodes: unknown field"]
    assert cr.problems(mutated("spec.priority", 1001)) == ["spec.priority: must be at most 1000 (is 1001)"]


def test_validate_reports_cluster_policies_by_their_crd() -> None:
    from analysis.checks.validation import validate

    bad = mutated("spec.egress.1.to.0.networks", ["10.1.2.3/8"])
    violations, notes = validate([bad, mutated("spec.egress.1.to.0", {"nodes": {}})])
    # Said once: by the manifest loader when it refuses the object (invalid-object), else by its CRD.
    assert [(v.subject, v.why.removesuffix(" (network-policy-api v0.3.0 CRD)")) for v in violations] == [(
        "ClusterNetworkPolicy tenancy-boundary.acme", "spec.egress[1].to[0].networks[0]: Invalid CIDR format provided")]
    assert violations[0].rule in ("invalid-object", "openapi-schema")
    assert notes == ["ClusterNetworkPolicy tenancy-boundary.acme: needs network-policy-api's experimental-channel "
                     "CRDs (spec.egress[1].to[0].nodes: unknown field)"]


def test_the_memo_answers_from_content_and_the_object_is_left_as_it_was():
    import copy as _copy

    from kube import customresources as cr

    obj = {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
           "metadata": {"name": "memo"},
           "spec": {"tier": "Admin", "priority": 5, "subject": {"namespaces": {}},
                    "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}]}}
    before = _copy.deepcopy(obj)
    first = cr.problems(obj)
    assert obj == before  # defaults are filled in a copy
    again = _copy.deepcopy(obj)
    assert cr.problems(again) == first
    again["spec"]["priority"] = "high"
    assert cr.problems(again) != first and any("priority" in line for line in cr.problems(again))
