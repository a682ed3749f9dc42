"""Reachability engine: which workload may open a connection to which, on which port, and why.

Pure Python (no Pulumi): reads Kubernetes manifests (the program's render or any cluster export) and evaluates
networking.k8s.io/v1 NetworkPolicy semantics exactly. Entry points: `load_paths` / `load_objects` -> `Cluster`,
`Engine(cluster)` -> `verdict`, `matrix`, `allowed_ports`, `flows`.
"""

from .engine import Engine, MatrixView, UnknownEndpoint
from .manifests import ManifestError, load_objects, load_paths
from .model import Cluster, Namespace, Peer, Policy, Rule, Workload
from .ports import PortSet, PortSpec, parse_protocol_port
from .verdict import Miss, RuleRef, Side, Verdict

__all__ = [
    "Cluster", "Engine", "ManifestError", "MatrixView", "Miss", "Namespace", "Peer", "Policy", "PortSet",
    "PortSpec", "Rule", "RuleRef", "Side", "UnknownEndpoint", "Verdict", "Workload", "load_objects",
    "load_paths", "parse_protocol_port",
]
