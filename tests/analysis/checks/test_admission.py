"""The admission model `check` uses: the program's ValidatingAdmissionPolicy read from the manifests, its CEL
validations evaluated by cel-python. tests/lab/test_admission.py holds the lab's API server to the same table."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest

from analysis.checks.admission import Admission, Refusal, exists
from policies.tenant_admission import NAME, VALIDATIONS, tenant_ingress_admission
from specs.plan import stack_objects
from stackconfig import parse_config, read_stack_file
from tests.analysis.checks.admission_cases import CASES, network_policy
from tests.paths import REPO_ROOT


def dev_objects() -> list[dict[str, Any]]:
    return stack_objects(parse_config(read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()).config)


def ours(obj: dict) -> bool:
    return obj["metadata"]["name"] in CASES


@pytest.mark.parametrize("case", CASES)
def test_each_case_gets_its_verdict(case):
    _, refused_by = CASES[case]
    refusal = Admission.of(dev_objects(), ours).refusal(network_policy(case, "acme"))
    if refused_by is None:
        assert refusal is None
    else:
        assert refusal == Refusal(NAME, refused_by, VALIDATIONS[refused_by][2])


def test_the_program_s_own_policies_are_not_a_tenant_s():
    objects = dev_objects()
    admission = Admission.of(objects, lambda obj: obj["metadata"]["name"] != "shop-frontend-from-load-balancer")
    load_balancer = [o for o in objects if o["kind"] == "NetworkPolicy"
                     and o["metadata"]["name"] == "shop-frontend-from-load-balancer"]
    assert load_balancer and all(admission.refusal(o) is None for o in load_balancer)
    # The same object written by a tenant is refused: it admits addresses.
    assert Admission.of(objects, lambda obj: True).refusal(load_balancer[0]) is not None


@pytest.mark.parametrize("namespace", ["monitoring", "kube-system", "nowhere"])
def test_only_tenant_namespaces_in_the_input_are_bound(namespace):
    objects = [*dev_objects(), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}]
    assert Admission.of(objects, ours).refusal(network_policy("allow-all", namespace)) is None


def replaced(objects: list[dict], kind: str, change) -> list[dict]:
    out = copy.deepcopy(objects)
    for obj in out:
        if obj["kind"] == kind:
            change(obj["spec"])
    return out


@pytest.mark.parametrize("change, why", [
    (lambda spec: spec.update(validationActions=["Warn"]), "a binding that only warns refuses nothing"),
    (lambda spec: spec.update(policyName="another"), "a binding of another policy"),
])
def test_bindings_that_deny_nothing(change, why):
    objects = replaced(dev_objects(), "ValidatingAdmissionPolicyBinding", change)
    assert Admission.of(objects, ours).refusal(network_policy("allow-all", "acme")) is None, why


@pytest.mark.parametrize("change", [
    lambda spec: spec["matchConditions"].append({"name": "x", "expression": "request.userInfo.username == 'x'"}),
    lambda spec: spec.update(paramKind={"apiVersion": "v1", "kind": "ConfigMap"}),
    lambda spec: spec.update(variables=[{"name": "x", "expression": "1"}]),
    lambda spec: spec["matchConstraints"]["resourceRules"][0].update(resources=["services"]),
], ids=["other-match-condition", "params", "variables", "other-resources"])
def test_policies_it_does_not_model_refuse_nothing(change):
    objects = replaced(dev_objects(), "ValidatingAdmissionPolicy", change)
    assert not Admission.of(objects, ours)


def test_without_the_policy_nothing_is_refused():
    objects = [o for o in dev_objects() if not o["kind"].startswith("ValidatingAdmissionPolicy")]
    assert not Admission.of(objects, ours)
    assert Admission.of(objects, ours).refusal(network_policy("allow-all", "acme")) is None


def test_a_validation_that_cannot_be_evaluated_refuses_as_failure_policy_fail_does():
    def broken(spec):
        spec["validations"] = [{"expression": "object.spec.nosuchfield.size() > 0", "message": "m"},
                               {"expression": "this is not CEL", "message": "n"}]
    objects = replaced(dev_objects(), "ValidatingAdmissionPolicy", broken)
    assert Admission.of(objects, ours).refusal(network_policy("ingress-from-own-pods", "acme")) == Refusal(NAME, 0, "m")


def test_the_recursion_limit_is_left_as_it_was():
    before = sys.getrecursionlimit()
    Admission.of(dev_objects(), ours).refusal(network_policy("allow-all", "acme"))
    assert sys.getrecursionlimit() == before


@pytest.mark.parametrize("field", ["uid", "resourceVersion", "creationTimestamp"])
def test_an_object_with_a_field_only_the_api_server_sets_exists(field):
    assert exists(network_policy("allow-all", "acme", **{field: "x"}))
    assert not exists(network_policy("allow-all", "acme"))


@pytest.mark.parametrize("api, resource", [("ClusterNetworkPolicy", "clusternetworkpolicies"),
                                           ("AdminNetworkPolicy", "adminnetworkpolicies")])
def test_the_platform_is_who_may_create_the_rendered_cluster_policies(api, resource):
    policy, binding = tenant_ingress_admission(api)
    assert policy["spec"]["matchConditions"] == [{
        "name": "requester-is-not-the-platform",
        "expression": f"!authorizer.group('policy.networking.k8s.io').resource('{resource}').check('create').allowed()"}]
    assert binding["spec"]["policyName"] == policy["metadata"]["name"] == NAME


def test_no_admission_policy_without_cluster_policies_or_below_kubernetes_1_30():
    values = read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()
    for cluster, rendered in [({"adminPolicies": "none"}, False), ({"kubernetesVersion": "1.29"}, False),
                              ({"kubernetesVersion": "1.30"}, True)]:
        raw = copy.deepcopy(values)
        raw["cluster"].update(cluster)
        parsed = parse_config(raw)
        kinds = {o["kind"] for o in stack_objects(parsed.config)}
        assert ("ValidatingAdmissionPolicy" in kinds) == rendered, cluster
        assert any("ValidatingAdmissionPolicy v1 needs Kubernetes 1.30" in w for w in parsed.warnings) == (
            cluster == {"kubernetesVersion": "1.29"}), parsed.warnings
