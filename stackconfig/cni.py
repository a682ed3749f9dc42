"""Which CNI plugins enforce NetworkPolicy (seed scenario 8).

A NetworkPolicy on a cluster whose CNI ignores it is worse than none: the manifests promise isolation that does
not exist. Names are compared lower-case.
"""

from __future__ import annotations

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
