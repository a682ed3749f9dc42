"""Witnesses: pods that do not exist yet but could, one for every way a policy's peer can be satisfied.

A NetworkPolicy peer names pods by labels, and labels are what anyone who may create a pod (or a namespace)
chooses: a tenant's admins label their pods as they like and add policies in their own namespace; whoever creates
a namespace labels it as they like. The one label nobody can forge is `kubernetes.io/metadata.name`, which the
API server sets to the namespace's name. So a proof about "who can reach X" that looks only at today's pods is a
proof about today: a peer `{namespaceSelector: {}, podSelector: {role: dba}}` admits nobody now and another
tenant's pod tomorrow.

For every pod/namespace-selector peer of every policy, `witness_objects` adds a pod satisfying the peer in each
namespace that satisfies it and has no such pod yet (a tenant could create one there), plus one in a new namespace
labelled to satisfy it, unless the peer pins namespaces by name (then: the named namespaces that do not exist).
Witnesses in existing namespaces come with a policy opening them both ways, because that namespace's admins can
write one; a new namespace has no policies at all. The engine then answers about witnesses like about any pod, so
`check` and `diff` see what a selector *could* match. `check` already does the same for addresses, probing every
region the ipBlocks cut out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .direction import Direction
from .model import NAME_LABEL, Cluster, Peer, Policy
from .selectors import Selector

WITNESS_LABEL = "tenancy/witness"
WITNESS_ANNOTATION = "tenancy/witness-of"
# Any value satisfies `Exists`; this one reads as what it is.
_ANY_VALUE = "any"


@dataclass(frozen=True)
class Witness:
    endpoint: str  # "namespace/pod"
    description: str  # what the pod stands for, for notes


def satisfy(selector: Selector | None) -> dict[str, str] | None:
    """The fewest labels that satisfy `selector` (None: unsatisfiable). `NotIn` and `DoesNotExist` are satisfied
    by leaving the key out; `In` takes its first value not also excluded; `Exists` any value."""
    if selector is None:
        return {}
    labels: dict[str, str] = {}
    by_key: dict[str, list] = {}
    for r in selector.requirements:
        by_key.setdefault(r.key, []).append(r)
    for key, reqs in by_key.items():
        allowed: set[str] | None = None
        excluded: set[str] = set()
        must_exist = must_not = False
        for r in reqs:
            if r.operator == "In":
                allowed = set(r.values) if allowed is None else allowed & set(r.values)
            elif r.operator == "NotIn":
                excluded |= set(r.values)
            elif r.operator == "Exists":
                must_exist = True
            else:
                must_not = True
        if must_not:
            if allowed is not None or must_exist:
                return None
            continue
        if allowed is not None:
            choices = sorted(allowed - excluded)
            if not choices:
                return None
            labels[key] = choices[0]
        elif must_exist:
            value = _ANY_VALUE
            while value in excluded:
                value += "-x"
            labels[key] = value
    return labels


def _pinned_names(selector: Selector) -> set[str] | None:
    """The namespace names a namespace selector allows by `kubernetes.io/metadata.name In (...)`, or None."""
    names: set[str] | None = None
    for r in selector.requirements:
        if r.key == NAME_LABEL and r.operator == "In":
            names = set(r.values) if names is None else names & set(r.values)
    return names


def _describe(peer: Peer, policy: Policy, rule: int, index: int, direction: Direction) -> str:
    return f"{peer} ({policy.ref} {direction}[{rule}].{direction.peer_field}[{index}])"


def witness_objects(cluster: Cluster, policies: Iterable[Policy] | None = None) -> tuple[list[dict], list[Witness]]:
    """Namespace, Pod and NetworkPolicy objects of the witnesses for `policies` (default: the cluster's), given
    the namespaces and workloads of `cluster`; and what each witness stands for."""
    # Sorted, so a witness's name does not depend on the order the documents came in.
    policies = sorted(cluster.policies if policies is None else policies, key=lambda p: (p.namespace, p.name))
    namespaces = cluster.namespaces
    taken = set(namespaces)
    pods_by_ns: dict[str, list[dict[str, str]]] = {}
    for w in cluster.workloads:
        if not w.host_network:
            pods_by_ns.setdefault(w.namespace, []).append(w.labels)
    objects: list[dict] = []
    witnesses: list[Witness] = []
    in_order = sorted(namespaces.items())
    # Every tenant's policies name the same few namespace selectors (or pin namespaces by name): matching each
    # against every namespace again was most of `check` at scale (750,000 matches at 300 tenants).
    selected: dict[Selector, list[str]] = {}

    def candidates_of(selector: Selector) -> list[str]:
        found = selected.get(selector)
        if found is None:
            pinned = _pinned_names(selector)
            pool = in_order if pinned is None else sorted((n, namespaces[n]) for n in pinned if n in namespaces)
            found = selected[selector] = [n for n, ns in pool if selector.matches(ns.labels)]
        return found

    seen: set[tuple[str, frozenset]] = set()
    fresh_ns: dict[frozenset, str] = {}
    counter = 0

    def add_pod(ns: str, labels: dict[str, str], why: str, open_up: bool) -> None:
        nonlocal counter
        key = (ns, frozenset(labels.items()))
        if key in seen:
            return
        seen.add(key)
        counter += 1
        name = f"witness-{counter}"
        pod_labels = {**labels, WITNESS_LABEL: str(counter)}
        objects.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": name, "namespace": ns, "labels": pod_labels,
                                     "annotations": {WITNESS_ANNOTATION: why}},
                        "spec": {"containers": [{"name": "witness", "image": "witness"}]}})
        if open_up:
            # Its namespace's admins can write this policy: the witness sends and receives freely.
            objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                            "metadata": {"name": name, "namespace": ns},
                            "spec": {"podSelector": {"matchLabels": {WITNESS_LABEL: str(counter)}},
                                     "policyTypes": [d.policy_type for d in (Direction.INGRESS, Direction.EGRESS)],
                                     "ingress": [{}], "egress": [{}]}})
        shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "no labels"
        witnesses.append(Witness(f"{ns}/{name}", f"a pod ({shown}) that could be created in {ns}, matching {why}"))

    def new_namespace(name_hint: str | None, labels: dict[str, str]) -> str:
        key = frozenset(labels.items()) | {("", name_hint or "")}
        if key in fresh_ns:
            return fresh_ns[key]
        name = name_hint
        if name is None:
            n = len(fresh_ns) + 1
            name = f"witness-ns-{n}"
            while name in taken:
                n += 1
                name = f"witness-ns-{n}"
        taken.add(name)
        fresh_ns[key] = name
        objects.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": name, "labels": {**labels, NAME_LABEL: name}}})
        return name

    for policy in policies:
        for direction, rules in ((Direction.INGRESS, policy.ingress), (Direction.EGRESS, policy.egress)):
            for ri, rule in enumerate(rules):
                for pi, peer in enumerate(rule.peers or ()):
                    if peer.ip_block is not None:
                        continue
                    pod_labels = satisfy(peer.pod_selector)
                    if pod_labels is None:
                        continue
                    why = _describe(peer, policy, ri, pi, direction)
                    if peer.namespace_selector is None:
                        candidates = [policy.namespace]
                    else:
                        selector = peer.namespace_selector
                        candidates = candidates_of(selector)
                        ns_labels = satisfy(selector)
                        if ns_labels is not None:
                            pinned = _pinned_names(selector)
                            if pinned is None:
                                name = new_namespace(None, ns_labels)
                                if selector.matches({**ns_labels, NAME_LABEL: name}):
                                    add_pod(name, pod_labels, why, open_up=False)
                            else:
                                for name in sorted(pinned - set(namespaces)):
                                    labels = {k: v for k, v in ns_labels.items() if k != NAME_LABEL}
                                    if selector.matches({**labels, NAME_LABEL: name}):
                                        add_pod(new_namespace(name, labels), pod_labels, why, open_up=False)
                    for ns in candidates:
                        matcher = peer.pod_selector
                        if matcher is not None and any(matcher.matches(labels) for labels in pods_by_ns.get(ns, ())):
                            continue  # an existing pod already shows what this peer admits there
                        if matcher is None and pods_by_ns.get(ns):
                            continue
                        add_pod(ns, pod_labels, why, open_up=True)
    return objects, witnesses


def is_witness(obj: dict) -> bool:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return False
    if obj.get("kind") == "NetworkPolicy":
        spec = obj.get("spec") or {}
        return WITNESS_LABEL in ((spec.get("podSelector") or {}).get("matchLabels") or {})
    return WITNESS_LABEL in (meta.get("labels") or {}) or str(meta.get("name", "")).startswith("witness-ns-")
