"""Which CNI plugins enforce NetworkPolicy (seed scenario 8).

A NetworkPolicy on a cluster whose CNI ignores it is worse than none: the manifests promise isolation that does
not exist. Names are compared lower-case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

ENFORCING = frozenset({
    "calico", "cilium", "antrea", "weave", "weave-net", "kube-router", "canal", "romana", "kube-ovn", "ovn-kubernetes",
    "openshift-sdn", "aws-vpc-cni", "azure-npm", "azure-cilium", "gke-dataplane-v2", "vmware-nsx", "cilium-chaining",
})
# These plugins accept NetworkPolicy objects but never program a single rule from them.
NON_ENFORCING = frozenset({
    "flannel", "none", "kindnet-legacy", "bridge", "host-local", "macvlan", "ipvlan", "aws-vpc-cni-no-policy",
})


class CniSupport(Enum):
    ENFORCING = "enforcing"
    NON_ENFORCING = "non-enforcing"
    UNKNOWN = "unknown"


def classify(cni: str) -> CniSupport:
    name = cni.strip().lower()
    if name in ENFORCING:
        return CniSupport.ENFORCING
    if name in NON_ENFORCING:
        return CniSupport.NON_ENFORCING
    return CniSupport.UNKNOWN


def non_enforcing_message(cni: str) -> str:
    return (
        f"CNI '{cni}' does not enforce NetworkPolicy: every policy this program renders would be accepted by the "
        "API server and then ignored, so tenants would not be isolated at all. Use an enforcing CNI "
        f"({', '.join(sorted(['calico', 'cilium', 'antrea', 'weave', 'kube-router', 'canal']))}), or set "
        "tenancy:cluster.allowUnenforcedPolicies: true to acknowledge that isolation is not enforced"
    )


def unknown_message(cni: str) -> str:
    return (
        f"CNI '{cni}' is not known to this tool; cannot tell whether it enforces NetworkPolicy. "
        "Verify enforcement before relying on tenant isolation"
    )


def acknowledged_message(cni: str) -> str:
    return (
        f"CNI '{cni}' does not enforce NetworkPolicy and tenancy:cluster.allowUnenforcedPolicies is true: "
        "policies are rendered but tenants are NOT isolated on this cluster"
    )


# --- cluster policies (SIG-Network network-policy-api) ---------------------------------------------------------

NO_ADMIN_POLICIES = "none"
CLUSTER_NETWORK_POLICY = "ClusterNetworkPolicy"  # policy.networking.k8s.io/v1alpha2, network-policy-api >= v0.2.0
ADMIN_NETWORK_POLICY = "AdminNetworkPolicy"  # policy.networking.k8s.io/v1alpha1 (+ BaselineAdminNetworkPolicy)
ADMIN_POLICY_CHOICES = (NO_ADMIN_POLICIES, CLUSTER_NETWORK_POLICY, ADMIN_NETWORK_POLICY)


@dataclass(frozen=True)
class ApiLimits:
    """Per-object maxima of a cluster policy API (its CRD's maxItems)."""

    rules: int  # ingress rules, and egress rules, per object
    peers: int  # from/to peers per rule
    protocols: int  # protocols (v1alpha2) or ports (v1alpha1) per rule


ADMIN_POLICY_LIMITS = {
    CLUSTER_NETWORK_POLICY: ApiLimits(rules=25, peers=25, protocols=25),
    ADMIN_NETWORK_POLICY: ApiLimits(rules=100, peers=100, protocols=100),
}

# Which plugins implement which cluster policy API, the default first. Source: network-policy-api's
# implementations page as of its v0.3.0 release (updated 21 April 2026). Plugins not listed implement neither.
ADMIN_POLICY_APIS: dict[str, tuple[str, ...]] = {
    # ClusterNetworkPolicy (standard channel) from Calico v3.32; AdminNetworkPolicy/BANP in v3.29-v3.31.
    "calico": (CLUSTER_NETWORK_POLICY, ADMIN_NETWORK_POLICY),
    "antrea": (ADMIN_NETWORK_POLICY,),
    "ovn-kubernetes": (ADMIN_NETWORK_POLICY,),
    # Kube-OVN's ClusterNetworkPolicy support is experimental; its AdminNetworkPolicy support is standard.
    "kube-ovn": (ADMIN_NETWORK_POLICY,),
}


def admin_policy_apis(cni: str) -> tuple[str, ...]:
    return ADMIN_POLICY_APIS.get(cni.strip().lower(), ())


def default_admin_policies(cni: str) -> str:
    """What `tenancy:cluster.adminPolicies` means when it is not set: the plugin's preferred API, else none."""
    apis = admin_policy_apis(cni)
    return apis[0] if apis else NO_ADMIN_POLICIES


_WITHOUT = ("tenant owners (bound to the `admin` ClusterRole in their namespace) can widen their namespace's "
            "isolation with NetworkPolicies of their own; `tenancy check` reports such policies as "
            "tenant-authored-widening")


def admin_policies_default_message(cni: str) -> str:
    """Why no cluster policies are rendered when adminPolicies is unset."""
    if classify(cni) is CniSupport.UNKNOWN:
        why = f"cannot tell whether CNI '{cni}' implements ClusterNetworkPolicy or AdminNetworkPolicy"
    else:
        why = f"CNI '{cni}' implements neither ClusterNetworkPolicy nor AdminNetworkPolicy"
    return (f"no admin-tier cluster policies: {why}, so adminPolicies defaults to none and {_WITHOUT}. "
            "Set adminPolicies explicitly if the cluster does implement one (or to none to silence this)")


def admin_policies_unsupported_message(cni: str, api: str) -> str:
    apis = admin_policy_apis(cni)
    offer = f"it implements {' and '.join(apis)}" if apis else "it implements neither cluster policy API"
    return (f"{api} is not implemented by CNI '{cni}' ({offer}): the policies would be accepted by the API server "
            "(given the CRDs) and then ignored, so tenants could still widen their isolation. Choose "
            f"{' or '.join([*apis, NO_ADMIN_POLICIES])}, or set tenancy:cluster.allowUnenforcedPolicies: true to "
            "acknowledge that they are not enforced")


# The admission policy that keeps tenants' NetworkPolicies from admitting addresses (policies/tenant_admission.py)
# is a ValidatingAdmissionPolicy v1: served from Kubernetes 1.30 on.
ADMISSION_MINIMUM_MINOR = 30


def tenant_admission_supported(kubernetes_version: str) -> bool:
    return int(kubernetes_version.split(".")[1]) >= ADMISSION_MINIMUM_MINOR


def tenant_admission_unsupported_message(kubernetes_version: str) -> str:
    return (f"no admission policy for tenants' NetworkPolicies: ValidatingAdmissionPolicy v1 needs Kubernetes "
            f"1.{ADMISSION_MINIMUM_MINOR} or later and kubernetesVersion is {kubernetes_version}, so a tenant's "
            "NetworkPolicy can still admit ingress from addresses outside the cluster (no cluster policy can deny "
            "that); `tenancy check` reports such policies as tenant-authored-widening")


def admin_policies_unverified_message(cni: str, api: str) -> str:
    if classify(cni) is CniSupport.UNKNOWN:
        return (f"cannot tell whether CNI '{cni}' implements {api}; the cluster policies are rendered, verify that "
                "they are enforced before relying on them")
    return (f"CNI '{cni}' does not implement {api} and tenancy:cluster.allowUnenforcedPolicies is true: the "
            "cluster policies are rendered but NOT enforced on this cluster")
