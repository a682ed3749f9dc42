"""Reachability engine: which workload may open a connection to which, on which port, and why.

Pure Python (no Pulumi): reads Kubernetes manifests (the program's render or any cluster export) and evaluates
networking.k8s.io/v1 NetworkPolicy semantics exactly, together with the cluster-scoped tiers of
policy.networking.k8s.io (ClusterNetworkPolicy v1alpha2/v1beta1, AdminNetworkPolicy and BaselineAdminNetworkPolicy
v1alpha1) in the API's order: Admin tier, NetworkPolicy, Baseline tier, allow. Entry points: `load_paths` / `load_objects` -> `Cluster`,
`Engine(cluster)` -> `verdict`, `matrix`, `allowed_ports`, `flows`.

Deliberate choices where manifests cannot say more:
- Pod IPs are not in manifests, so pod-to-pod traffic never matches an ipBlock peer; ipBlocks apply only to
  external endpoints (`ip:<address>`), which in turn match nothing but ipBlocks.
- External endpoints are never isolated: an external source has no egress policy, an external destination no
  ingress policy. Traffic between two external addresses is reported allowed by `matrix` (nothing restricts it)
  but left out of `flows`, `diff` and `graph` because it does not cross the cluster.
- `from: []` / `to: []` / `ports: []` mean "everyone" / "every port", exactly like an absent field (the API's
  "empty or missing"); it is `ingress: []` / `egress: []` (no rules) that admits no one.
- Cluster policies' `networks` peers match pod traffic too (the API says so); pods match one when its CIDRs cover
  the pod network (`Engine(pod_networks=...)`, by default all of IPv4). `nodes` and `domainNames` peers match
  nothing here (node IPs and DNS answers are not in manifests); the engine lists them in `Engine.warnings`, with
  equal-priority policies that can disagree (the API leaves their order undefined; the engine takes names in order).
- Verdicts are per policy, not per served port: a port the destination does not listen on can still be
  "allowed"; named ports are the exception, resolved against the destination's containerPorts per protocol.
"""

from .clusterpolicy import ClusterPeer, ClusterPolicy, ClusterRule
from .direction import Direction
from .engine import Engine, MatrixView, UnknownEndpoint
from .manifests import ManifestError, load_objects, load_paths
from .model import Cluster, Namespace, Peer, Policy, Rule, Workload
from .ports import PortSet, PortSpec, parse_protocol_port
from .verdict import ClusterRuleRef, Miss, RuleRef, Side, Verdict

__all__ = [
    "Cluster", "ClusterPeer", "ClusterPolicy", "ClusterRule", "ClusterRuleRef", "Direction", "Engine",
    "ManifestError", "MatrixView", "Miss", "Namespace", "Peer", "Policy", "PortSet", "PortSpec", "Rule", "RuleRef",
    "Side", "UnknownEndpoint", "Verdict", "Workload", "load_objects", "load_paths", "parse_protocol_port",
]
