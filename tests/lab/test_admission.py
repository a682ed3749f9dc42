"""The admission policy for tenants' NetworkPolicies (policies/tenant_admission.py) on the lab's real kube-apiserver
(v1.36, RBAC): the policy and binding exactly as dev renders them, a tenant namespace `admission-acme` whose owners'
group holds `admin` there (as the program's RoleBinding grants it), and a namespace without the tenant label.

Requests are made as a tenant owner by impersonation (`--as`, `--as-group`: RBAC and the `authorizer` of the match
condition see that user) and as the lab's admin (in `system:masters`, so allowed to create cluster policies: the
platform). Each case of tests/analysis/checks/admission_cases.py gets the API server's verdict, which must equal
the table and the model `check` uses (`analysis.checks.admission`). Creates are server-side dry runs; what is
created for real is removed at the end of the module.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from analysis.checks.admission import Admission
from policies.tenant_admission import NAME, VALIDATIONS
from specs.plan import stack_objects
from stackconfig import parse_config, read_stack_file
from tenancy.lab import apply as lab_apply
from tenancy.lab.state import LabState
from tests.analysis.checks.admission_cases import CASES, network_policy
from tests.paths import REPO_ROOT

TENANT_NS, OTHER_NS = "admission-acme", "admission-other"
OWNERS = "admission-owners"
AS_TENANT = ("--as=admission-owner", f"--as-group={OWNERS}")
DENIED = f"ValidatingAdmissionPolicy '{NAME}' with binding '{NAME}' denied request: "


def dev_admission() -> list[dict[str, Any]]:
    config = parse_config(read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()).config
    objects = [o for o in stack_objects(config) if o["kind"].startswith("ValidatingAdmissionPolicy")]
    assert [o["kind"] for o in objects] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
    return objects


def namespace(name: str, tenant: bool) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, **({"labels": {"tenancy/tenant": name}} if tenant else {})}}


def owners_binding(ns: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "tenant-owners-admin", "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": OWNERS}]}


def create(kubectl: lab_apply.Kubectl, obj: dict[str, Any], *identity: str,
           dry_run: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*kubectl.argv, *identity, "create", *(["--dry-run=server"] if dry_run else []), "-f", "-"],
                          input=json.dumps(obj), capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def kubectl(lab_workdir) -> Iterator[lab_apply.Kubectl]:
    kubectl = lab_apply.Kubectl(LabState.load(lab_workdir))
    objects = [*dev_admission(), namespace(TENANT_NS, True), namespace(OTHER_NS, False)]
    try:
        kubectl.apply(objects)
        kubectl.apply([owners_binding(TENANT_NS), owners_binding(OTHER_NS)])
        # The API server compiles a new policy and its binding in the background: wait until they refuse.
        deadline = time.monotonic() + 60
        while create(kubectl, network_policy("allow-all", TENANT_NS), *AS_TENANT).returncode == 0:
            assert time.monotonic() < deadline, "the admission policy did not take effect within 60 s"
            time.sleep(0.5)
        yield kubectl
    finally:
        kubectl("delete", "namespace", "--ignore-not-found", "--wait=false", TENANT_NS, OTHER_NS, check=False)
        kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", "--ignore-not-found", NAME,
                check=False)


def model(obj: dict[str, Any]) -> int | None:
    """The refusing validation's index by the model `check` uses, given what the lab holds."""
    refusal = Admission.of([*dev_admission(), namespace(TENANT_NS, True), namespace(OTHER_NS, False)],
                           lambda o: True).refusal(obj)
    return None if refusal is None else refusal.index


def test_the_api_server_type_checks_the_policy_without_warnings(kubectl):
    status = kubectl.json("validatingadmissionpolicy", NAME)["status"]
    assert status.get("observedGeneration") == 1
    assert not (status.get("typeChecking") or {}).get("expressionWarnings"), status


@pytest.mark.parametrize("case", CASES)
def test_a_tenant_gets_the_verdict_of_the_table_and_of_the_model(kubectl, case):
    obj = network_policy(case, TENANT_NS)
    _, refused_by = CASES[case]
    done = create(kubectl, obj, *AS_TENANT)
    if refused_by is None:
        assert done.returncode == 0, done.stderr
        assert "created (server dry run)" in done.stdout
    else:
        assert done.returncode != 0
        assert "Forbidden" in done.stderr and DENIED + VALIDATIONS[refused_by][2] in done.stderr, done.stderr
    assert model(obj) == refused_by


@pytest.mark.parametrize("case", [c for c, (_, refused_by) in CASES.items() if refused_by is not None])
def test_the_platform_may_write_what_a_tenant_may_not(kubectl, case):
    done = create(kubectl, network_policy(case, TENANT_NS))
    assert done.returncode == 0, done.stderr


def test_the_load_balancer_policy_is_the_platform_s_to_write(kubectl):
    config = parse_config(read_stack_file(REPO_ROOT / "Pulumi.dev.yaml").namespace_values()).config
    policy = next(o for o in stack_objects(config) if o["kind"] == "NetworkPolicy"
                  and o["metadata"]["name"] == "shop-frontend-from-load-balancer")
    policy = {**policy, "metadata": {**policy["metadata"], "namespace": TENANT_NS}}
    assert create(kubectl, policy).returncode == 0
    refused = create(kubectl, policy, *AS_TENANT)
    assert refused.returncode != 0 and DENIED + VALIDATIONS[1][2] in refused.stderr, refused.stderr


def test_a_namespace_without_the_tenant_label_is_not_bound(kubectl):
    done = create(kubectl, network_policy("allow-all", OTHER_NS), *AS_TENANT)
    assert done.returncode == 0, done.stderr
    assert model(network_policy("allow-all", OTHER_NS)) is None


def test_a_tenant_may_not_widen_its_policy_by_an_update_but_may_delete_it(kubectl):
    own = network_policy("ingress-from-own-pods", TENANT_NS)
    created = create(kubectl, own, *AS_TENANT, dry_run=False)
    assert created.returncode == 0, created.stderr
    widened = {**own, "spec": CASES["allow-all"][0]}
    replaced = subprocess.run([*kubectl.argv, *AS_TENANT, "replace", "-f", "-"], input=json.dumps(widened),
                              capture_output=True, text=True, check=False, timeout=120)
    assert replaced.returncode != 0 and DENIED + VALIDATIONS[0][2] in replaced.stderr, replaced.stderr
    kubectl(*AS_TENANT, "delete", "networkpolicy", "-n", TENANT_NS, "ingress-from-own-pods")
    assert kubectl("get", "networkpolicy", "-n", TENANT_NS, "-o", "name") == ""
