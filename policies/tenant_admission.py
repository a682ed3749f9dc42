"""The admission policy that closes the one widening no cluster policy can stop: a tenant's NetworkPolicy
admitting ingress from addresses outside the pod network.

ClusterNetworkPolicy (v1alpha2) and AdminNetworkPolicy (v1alpha1) have no address peer for ingress, so an
`ingress: [{}]` or `from: [{ipBlock: {cidr: 0.0.0.0/0}}]` written by a tenant's owners reaches their backends and
databases from anywhere the network routes pod addresses. A `ValidatingAdmissionPolicy`
(`admissionregistration.k8s.io/v1`, Kubernetes 1.30 and later) refuses such a NetworkPolicy at the API server:

- in tenant namespaces only (the binding selects `tenancy/tenant`, a label only the platform sets on namespaces);
- from requesters who may not create the cluster policies themselves (`authorizer` in a match condition): tenant
  owners hold `admin` in their namespace only, which grants nothing cluster-scoped, while the identity that runs
  `pulumi up` creates the cluster policies and so writes the load balancer's `sourceRanges` policy unhindered.
  Opening the namespace to addresses is a cluster-level decision, taken by whoever may write cluster policies;
- every ingress rule must name its sources (`from` present and not empty), and none of them may be an `ipBlock`.

Within the namespace a tenant stays free (pod and namespace peers; the admin tier bounds the namespaces), egress
is left to the admin tier (which has address peers for egress), and deleting a policy is never refused.
`analysis/checks/admission.py` evaluates these very expressions on the manifests `check` reads; the lab proves
the API server's verdicts equal (tests/lab/test_admission.py).
"""

from __future__ import annotations

from kube.labels import POLICY_PATTERN, TENANT, managed
from policies.cluster_policy import GROUP
from stackconfig.cni import ADMIN_NETWORK_POLICY, CLUSTER_NETWORK_POLICY

NAME = "tenancy-tenant-ingress"
PATTERN = "tenant-ingress-admission"
API_VERSION = "admissionregistration.k8s.io/v1"
POLICY_KIND, BINDING_KIND = "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"
# The cluster policy resource whose `create` permission marks a requester as the platform, per rendered API.
AUTHORITY = {CLUSTER_NETWORK_POLICY: "clusternetworkpolicies", ADMIN_NETWORK_POLICY: "adminnetworkpolicies"}

# (name, CEL expression, message): what each validation refuses, in the order the API server evaluates them.
VALIDATIONS = (
    ("sources-named",
     "!has(object.spec.ingress) || object.spec.ingress.all(rule, has(rule.from) && size(rule.from) > 0)",
     "a tenant's NetworkPolicy may not have an ingress rule without sources (no `from`, or an empty one): it "
     "admits every address, outside the cluster included. Name the pods or namespaces it admits; ingress from "
     "addresses is the platform's (the load balancer's sourceRanges)"),
    ("no-address-sources",
     "!has(object.spec.ingress) || object.spec.ingress.all(rule, !has(rule.from) || "
     "rule.from.all(peer, !has(peer.ipBlock)))",
     "a tenant's NetworkPolicy may not admit ingress from an ipBlock: ingress from addresses is the platform's "
     "(the load balancer's sourceRanges). Name the pods or namespaces it admits"),
)


def platform_condition(api: str) -> str:
    """True for a requester who may not create the cluster policies: the admission policy applies to it."""
    return f"!authorizer.group('{GROUP}').resource('{AUTHORITY[api]}').check('create').allowed()"


def tenant_ingress_admission(api: str) -> list[dict]:
    """The ValidatingAdmissionPolicy and its binding, for the cluster policy API `api` the stack renders."""
    labels = {**managed(), POLICY_PATTERN: PATTERN}
    policy = {
        "apiVersion": API_VERSION, "kind": POLICY_KIND, "metadata": {"name": NAME, "labels": labels},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{
                "apiGroups": ["networking.k8s.io"], "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"], "resources": ["networkpolicies"],
            }]},
            "matchConditions": [{"name": "requester-is-not-the-platform", "expression": platform_condition(api)}],
            "validations": [{"expression": expression, "message": message, "reason": "Forbidden"}
                            for _, expression, message in VALIDATIONS],
        },
    }
    binding = {
        "apiVersion": API_VERSION, "kind": BINDING_KIND,
        "metadata": {"name": NAME, "labels": dict(labels)},
        "spec": {
            "policyName": NAME, "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchExpressions": [{"key": TENANT, "operator": "Exists"}]}},
        },
    }
    return [policy, binding]
