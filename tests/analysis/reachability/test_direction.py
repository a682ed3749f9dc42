"""Direction: each of the engine's two directions knows the policy fields it names, and reads as its plain string."""

from __future__ import annotations

import json

import pytest
import yaml

from analysis.reachability import Direction, Engine, load_objects
from analysis.reachability.witnesses import witness_objects

from .helpers import base_objects, netpol


def test_each_direction_names_its_peer_field_and_policy_type():
    assert [(d, d.peer_field, d.policy_type) for d in Direction] == [
        ("ingress", "from", "Ingress"), ("egress", "to", "Egress")]
    assert Direction("ingress") is Direction.INGRESS


@pytest.mark.parametrize("d, text", [(Direction.INGRESS, "ingress"), (Direction.EGRESS, "egress")])
def test_a_direction_is_its_plain_string_to_code_that_spells_it(d, text):
    # Code outside the engine (analysis.checks, the CLI) still compares, keys, joins and prints the strings.
    assert d == text and text == d and hash(d) == hash(text)
    assert {text: 1}[d] == 1 and {d: 1}[text] == 1
    assert str(d) == f"{d}" == "%s" % d == format(d, "") == text
    assert f"[{d:>8}]" == f"[{text:>8}]"
    assert " and ".join([d, d]) == f"{text} and {text}"
    assert json.dumps({d: [d]}) == json.dumps({text: [text]})


def test_verdicts_carry_directions_and_print_them_as_before():
    objs = base_objects() + [
        netpol("x", "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        netpol("x", "a-out", {"podSelector": {"matchLabels": {"pod": "a"}}, "egress": [{"to": [{"podSelector": {}}]}]}),
    ]
    v = Engine(load_objects(objs)).verdict("x/a", "x/b", 80)
    assert v.egress.direction is Direction.EGRESS and v.egress.direction == "egress"
    assert v.ingress.direction is Direction.INGRESS and v.ingress.direction == "ingress"
    assert str(v.egress.admitted_by) == \
        "policy x/a-out egress rule 0: to[0] all pods in the policy's namespace; any port (no 'ports')"
    assert [str(m) for m in v.ingress.misses] == ["policy x/deny has no ingress rules, so it admits nothing"]


def test_objects_built_from_directions_hold_plain_strings():
    # The safe YAML dumper refuses any str subclass, so a Direction must not reach an object the tools write out.
    with pytest.raises(yaml.representer.RepresenterError):
        yaml.safe_dump([Direction.INGRESS])
    objs = base_objects() + [netpol("x", "from-new", {
        "podSelector": {}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "new"}}}]}]})]
    witness_objs, witnesses = witness_objects(load_objects(objs))
    opened = [o for o in witness_objs if o["kind"] == "NetworkPolicy"]
    assert [o["spec"]["policyTypes"] for o in opened] == [["Ingress", "Egress"]]
    yaml.safe_dump(witness_objs)
    assert [w.description for w in witnesses] == [
        "a pod (role=new) that could be created in x, matching pods with role=new in the policy's namespace "
        "(x/from-new ingress[0].from[0])"]
