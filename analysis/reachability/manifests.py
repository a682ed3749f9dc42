"""Reading manifests into a `Cluster`: files, directories, stdin; multi-document YAML, JSON, `kind: List`.

Locations are "<file> doc <n>" with n counted from 1 in the order documents appear in the file (a `kind: List`
item adds " items[i]"). Every problem found is collected before raising, so a user fixes a file in one pass.

Folding: a Pod/ReplicaSet/Job whose controlling owner is also present is represented by that owner. Because
`kubectl get pods,deploy,...` exports omit ReplicaSets and Jobs, a Pod owned by a missing ReplicaSet named
`<deployment>-<pod-template-hash>` folds into that Deployment when present (likewise a Job `<cronjob>-<n>` into its
CronJob), which is how those controllers name their children.
"""

from __future__ import annotations

import gc
import ipaddress
import json
import os
import sys
from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping

import yaml

from kube import customresources, names, yamllimits
from kube.problems import InputProblems, raise_if_any
from kube.workloads import pod_template

from . import fastyaml, forked
from .clusterpolicy import is_cluster_policy, parse_cluster_policy
from .direction import Direction
from .ipblocks import Address, parse_ip_block
from .model import NAME_LABEL, Cluster, Namespace, Peer, Policy, Resource, Rule, Workload
from .ports import ContainerPort, is_port_name, parse_port_number, parse_port_spec, parse_protocol
from .selectors import parse_labels, parse_selector


WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class ManifestError(InputProblems):
    """Unreadable or invalid input; `.problems` holds one line per problem naming file, document and field."""


# ---------------------------------------------------------------------------------------------------- reading


def _iter_files(paths: Iterable[str], problems: list[str]) -> Iterator[str]:
    for path in paths:
        if path == "-":
            yield path
        elif os.path.isdir(path):
            found = False
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith(MANIFEST_SUFFIXES) and not f.startswith("."):
                        found = True
                        yield os.path.join(root, f)
            if not found:
                problems.append(f"{path}: directory contains no .yaml, .yml or .json files")
        elif os.path.exists(path):
            yield path
        else:
            problems.append(f"{path}: no such file or directory")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _parse_text(text: str, source: str, problems: list[str]) -> list[tuple[str, Any]]:
    """Documents of one file as (location, object) pairs; empty documents are dropped but keep their number."""
    stripped = text.lstrip()
    if source.endswith(".json") or stripped.startswith(("{", "[")):
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except _DuplicateKey as exc:
            problems.append(f"{source} doc 1: not valid JSON: duplicate key {exc.key!r} in one object (kubectl "
                            "refuses it too)")
            return []
        except RecursionError:
            problems.append(f"{source} doc 1: {yamllimits.depth_refused().problem}")
            return []
        except ValueError as exc:
            if source.endswith(".json"):
                problems.append(f"{source} doc 1: not valid JSON: {exc}")
                return []
        else:
            if yamllimits.too_deep(data):
                problems.append(f"{source} doc 1: {yamllimits.depth_refused().problem}")
                return []
            items = data if isinstance(data, list) else [data]
            return [(f"{source} doc {i}", d) for i, d in enumerate(items, 1) if d is not None]
    out: list[tuple[str, Any]] = []
    n = 0
    try:
        for n, doc in enumerate(fastyaml.load_all(text), 1):
            if doc is not None:
                out.append((f"{source} doc {n}", doc))
    except yamllimits.Refused as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problems.append(f"{source} doc {exc.document or n + 1}: {exc.problem}{where}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        # An unclosed '{' or '[' is detected where the parser gave up, often the next line; say where it opened.
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            what += f" ({context} at line {context_mark.line + 1}, column {context_mark.column + 1})"
        problems.append(f"{source} doc {n + 1}: not valid YAML{where}: {what}")
    return out


# From this much text a second process parses half of it: below, the fork and the pickling cost more than they
# save (20 MB, 1,000 tenants: 5 s of parsing becomes about 3).
PARALLEL_FROM_BYTES = 4 << 20


def read_documents(paths: Iterable[str], problems: list[str],
                   validated: dict[str, list[str]] | None = None) -> list[tuple[str, Any]]:
    """(location, object) of every document at `paths`. With `validated`, custom resources are checked against
    their CRDs while the files are parsed, where a second process shares the work, and their problems are stored
    there by location for `build_cluster`."""
    # Every file is read first, then parsed; `steps` keeps each problem where it occurred, so the lines come out
    # in the same order however the parsing is split.
    steps: list[str | tuple[str, str]] = []
    found: list[str] = []
    for f in _iter_files(paths, found):
        steps += found
        found.clear()
        try:
            if f == "-":
                steps.append(("<stdin>", sys.stdin.read()))
            else:
                with open(f, encoding="utf-8") as fh:
                    steps.append((f, fh.read()))
        except UnicodeDecodeError as exc:
            steps.append(f"{f}: not UTF-8 text (byte {exc.start})")
        except OSError as exc:
            steps.append(f"{f}: cannot read: {exc.strerror or exc}")
    steps += found
    texts = [step for step in steps if isinstance(step, tuple)]
    parse = _parse_one if validated is None else _parse_and_validate
    parsed = iter(forked.map_split(texts, parse, _split(texts)))
    docs: list[tuple[str, Any]] = []
    for step in steps:
        if isinstance(step, str):
            problems.append(step)
            continue
        file_docs, file_problems, file_validated = next(parsed)
        docs += file_docs
        problems += file_problems
        if validated is not None:
            validated.update(file_validated)
    return docs


def _parse_one(item: tuple[str, str]) -> tuple[list[tuple[str, Any]], list[str], dict[str, list[str]]]:
    problems: list[str] = []
    return _parse_text(item[1], item[0], problems), problems, {}


def _parse_and_validate(item: tuple[str, str]) -> tuple[list[tuple[str, Any]], list[str], dict[str, list[str]]]:
    docs, problems, validated = _parse_one(item)
    for loc, obj in docs:
        if isinstance(obj, dict) and customresources.is_custom_resource(obj):
            validated[loc] = customresources.problems(obj)
    return docs, problems, validated


# Checking a custom resource against its CRD costs about what parsing this many bytes of YAML does: the split
# weighs each by it, so that a file of cluster policies does not leave one process with most of the work.
CUSTOM_RESOURCE_BYTES = 2000


def _cost(text: str) -> int:
    return len(text) + CUSTOM_RESOURCE_BYTES * text.count(customresources.GROUP + "/")


def _split(texts: list[tuple[str, str]]) -> int:
    """Where the child's half starts: half the work (bytes, and custom resources to check), or 0 (no child) when
    the input is small."""
    if not forked.worthwhile(sum(len(text) for _, text in texts), PARALLEL_FROM_BYTES):
        return 0
    costs = [_cost(text) for _, text in texts]
    total, seen = sum(costs), 0
    for i, cost in enumerate(costs):
        seen += cost
        if seen * 2 >= total:
            return i + 1
    return 0


def _flatten(docs: Iterable[tuple[str, Any]], problems: list[str]) -> Iterator[tuple[str, dict]]:
    for loc, obj in docs:
        if not isinstance(obj, dict):
            problems.append(f"{loc}: expected a Kubernetes object (mapping), got {type(obj).__name__}")
            continue
        kind = obj.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list):
            items = obj["items"]
            if kind != "List":
                items = [_typed_item(item, kind[: -len("List")], obj.get("apiVersion")) for item in items]
            yield from _flatten(((f"{loc} items[{i}]", item) for i, item in enumerate(items)), problems)
            continue
        yield loc, obj


def _typed_item(item: Any, kind: str, api_version: Any) -> Any:
    """An item of a typed list (`PodList`, `NetworkPolicyList`, ... as `kubectl get --raw` returns them) carries
    no kind or apiVersion: like apimachinery, take them from the list; what the item says itself wins."""
    if not isinstance(item, dict) or (item.get("kind") and item.get("apiVersion")):
        return item
    filled = dict(item)
    filled.setdefault("kind", kind)
    if api_version is not None:
        filled.setdefault("apiVersion", api_version)
    return filled


# ---------------------------------------------------------------------------------------------------- building


def _meta(kind: str, obj: dict, loc: str, problems: list[str]) -> tuple[str, str | None, dict, dict[str, str]]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        problems.append(f"{loc}: metadata: required mapping")
        return "", None, {}, {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"{loc}: metadata.name: required")
        name = ""
    else:
        why = names.name(kind, name)
        if why:
            problems.append(f"{loc}: metadata.name: invalid {kind} name {name!r}: {why}")
    ns = meta.get("namespace")
    if ns is not None and not isinstance(ns, str):
        problems.append(f"{loc}: metadata.namespace: expected a string, got {ns!r}")
        ns = None
    elif ns:
        why = names.dns1123_label(ns)
        if why:
            problems.append(f"{loc}: metadata.namespace: invalid namespace {ns!r}: {why}")
    labels = parse_labels(meta.get("labels"), f"{loc}: metadata.labels", problems)
    return name, ns or None, meta, labels


def _pod_template(kind: str, obj: dict) -> tuple[str, Any]:
    """(field path, pod template) for a workload kind; a Pod is its own template."""
    path, template = pod_template({**obj, "kind": kind})
    return path, {} if template is None else template


def _container_ports(podspec: Any, path: str, loc: str, problems: list[str]) -> tuple[ContainerPort, ...]:
    if not isinstance(podspec, dict):
        return ()
    out: list[ContainerPort] = []
    groups = [("containers", podspec.get("containers"))]
    # Sidecars (init containers that keep running) serve traffic too.
    groups.append(("initContainers", [c for c in podspec.get("initContainers") or []
                                      if isinstance(c, dict) and c.get("restartPolicy") == "Always"]))
    for field, containers in groups:
        for ci, c in enumerate(containers or []):
            if not isinstance(c, dict):
                continue
            for pi, p in enumerate(c.get("ports") or []):
                ppath = f"{loc}: {path}spec.{field}[{ci}].ports[{pi}]"
                if not isinstance(p, dict):
                    problems.append(f"{ppath}: expected a mapping")
                    continue
                num = parse_port_number(p.get("containerPort"), f"{ppath}.containerPort", problems)
                proto = parse_protocol(p.get("protocol"), f"{ppath}.protocol", problems)
                name = p.get("name")
                if name is not None and not (isinstance(name, str) and is_port_name(name)):
                    # Policies' named ports resolve against these names; one that cannot exist matches nothing.
                    problems.append(f"{ppath}.name: invalid port name {name!r} (must be an IANA service name: at "
                                    "most 15 characters, a-z, 0-9 and '-', with a letter)")
                if num is not None:
                    out.append(ContainerPort(name if isinstance(name, str) and name else None, num, proto))
    return tuple(out)


def _controller(meta: dict) -> tuple[str, str] | None:
    refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
    ctl = [r for r in refs if r.get("controller")] or refs[:1]
    if not ctl:
        return None
    return str(ctl[0].get("kind")), str(ctl[0].get("name"))


def _parse_rules(raw: Any, direction: Direction, loc: str, problems: list[str]) -> tuple[Rule, ...]:
    field = direction.value
    peer_field = direction.peer_field
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{loc}: spec.{field}: expected a list, got {type(raw).__name__}")
        return ()
    rules: list[Rule] = []
    for ri, r in enumerate(raw):
        rpath = f"spec.{field}[{ri}]"
        if r is None:
            r = {}
        if not isinstance(r, dict):
            problems.append(f"{loc}: {rpath}: expected a mapping, got {type(r).__name__}")
            continue
        errs: list[str] = []
        peers: list[Peer] | None = None
        raw_peers = r.get(peer_field)
        if raw_peers is not None and not isinstance(raw_peers, list):
            errs.append(f"{rpath}.{peer_field}: expected a list, got {type(raw_peers).__name__}")
        elif raw_peers:  # absent and [] both mean "every peer" in the API
            peers = []
            for pi, p in enumerate(raw_peers):
                ppath = f"{rpath}.{peer_field}[{pi}]"
                if not isinstance(p, dict):
                    errs.append(f"{ppath}: expected a mapping, got {type(p).__name__}")
                    continue
                has_pod = p.get("podSelector") is not None
                has_ns = p.get("namespaceSelector") is not None
                has_ip = p.get("ipBlock") is not None
                if not (has_pod or has_ns or has_ip):
                    errs.append(f"{ppath}: must specify podSelector, namespaceSelector or ipBlock")
                    continue
                if has_ip and (has_pod or has_ns):
                    errs.append(f"{ppath}: ipBlock cannot be combined with podSelector or namespaceSelector")
                    continue
                if has_ip:
                    block = parse_ip_block(p["ipBlock"], f"{ppath}.ipBlock", errs)
                    if block is not None:
                        peers.append(Peer(ip_block=block))
                    continue
                pod = parse_selector(p["podSelector"], f"{ppath}.podSelector", errs) if has_pod else None
                ns = parse_selector(p["namespaceSelector"], f"{ppath}.namespaceSelector", errs) if has_ns else None
                peers.append(Peer(pod_selector=pod, namespace_selector=ns))
        ports = None
        raw_ports = r.get("ports")
        if raw_ports is not None and not isinstance(raw_ports, list):
            errs.append(f"{rpath}.ports: expected a list, got {type(raw_ports).__name__}")
        elif raw_ports:  # absent and [] both mean "every port"
            specs = [parse_port_spec(p, f"{rpath}.ports[{i}]", errs) for i, p in enumerate(raw_ports)]
            ports = tuple(s for s in specs if s is not None)
        problems.extend(f"{loc}: {e}" for e in errs)
        rules.append(Rule(tuple(peers) if peers is not None else None, ports))
    return tuple(rules)


_POLICY_TYPES = (Direction.INGRESS.policy_type, Direction.EGRESS.policy_type)


def _parse_policy(obj: dict, name: str, ns: str, loc: str, problems: list[str]) -> Policy | None:
    spec = obj.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        problems.append(f"{loc}: spec: expected a mapping, got {type(spec).__name__}")
        return None
    before = len(problems)
    errs: list[str] = []
    selector = parse_selector(spec.get("podSelector"), "spec.podSelector", errs)
    problems.extend(f"{loc}: {e}" for e in errs)
    types = spec.get("policyTypes")
    if types is not None and not isinstance(types, list):
        problems.append(f"{loc}: spec.policyTypes: expected a list, got {type(types).__name__}")
        types = None
    for i, t in enumerate(types or ()):
        if t not in _POLICY_TYPES:
            problems.append(f"{loc}: spec.policyTypes[{i}]: invalid policy type {t!r} (expected Ingress or Egress)")
    ingress = _parse_rules(spec.get("ingress"), Direction.INGRESS, loc, problems)
    egress = _parse_rules(spec.get("egress"), Direction.EGRESS, loc, problems)
    if len(problems) > before:
        return None
    if types:
        affects_in, affects_eg = Direction.INGRESS.policy_type in types, Direction.EGRESS.policy_type in types
    else:
        # API defaulting: Ingress always; Egress only when the policy has at least one egress rule.
        raw_eg = spec.get("egress")
        affects_in, affects_eg = True, isinstance(raw_eg, list) and len(raw_eg) > 0
    return Policy(ns, name, selector, ingress, egress, affects_in, affects_eg, loc)


def _duplicates(keyed: list[tuple[tuple[str, str, str], str]]) -> list[str]:
    where: dict[tuple[str, str, str], list[str]] = {}
    for key, loc in keyed:
        where.setdefault(key, []).append(loc)
    return [f"{kind} {f'{ns}/' if ns else ''}{name} appears {len(locs)} times ({', '.join(locs)}); the last one "
            "is used" for (kind, ns, name), locs in where.items() if len(locs) > 1]


# Kinds that filter traffic but are not networking.k8s.io/v1 NetworkPolicy: CNI-specific policies (Cilium,
# Calico, Antrea, OpenShift) and the policy.networking.k8s.io API while the engine does not read it. Skipped
# objects are counted by kind ("NetworkPolicy (<apiVersion>)" for another API's NetworkPolicy).
POLICY_KINDS = frozenset({
    "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy", "StagedKubernetesNetworkPolicy", "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy", "EgressFirewall", "EgressNetworkPolicy",
    "MultiNetworkPolicy",
})


def unmodelled_policies(skipped: Mapping[str, int]) -> dict[str, int]:
    """The skipped objects that are network policies of some other API: verdicts ignore what they do."""
    return {k: n for k, n in skipped.items()
            if k.split(" ", 1)[0] in POLICY_KINDS or k.startswith("NetworkPolicy (")}


def _pod_finished(obj: dict) -> bool:
    status = obj.get("status")
    return isinstance(status, dict) and status.get("phase") in ("Succeeded", "Failed")


def _job_finished(obj: dict) -> bool:
    status = obj.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    return any(isinstance(c, dict) and c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in conditions or () if isinstance(conditions, list))


def _workload(kind: str, ns: str, name: str, obj: dict, loc: str, problems: list[str]) -> Workload | None:
    """A workload from an object's pod template (a Pod is its own template), or None when it has none."""
    tpath, tmpl = _pod_template(kind, obj)
    if not isinstance(tmpl, dict):
        problems.append(f"{loc}: {tpath.rstrip('.')}: expected a pod template mapping")
        return None
    tmeta = tmpl.get("metadata") or {}
    labels = parse_labels(tmeta.get("labels") if isinstance(tmeta, dict) else None,
                          f"{loc}: {tpath}metadata.labels", [] if kind == "Pod" else problems)
    ports = _container_ports(tmpl.get("spec"), tpath, loc, problems)
    podspec = tmpl.get("spec")
    host_network = isinstance(podspec, dict) and podspec.get("hostNetwork") is True
    addresses = _node_addresses(obj) if host_network and kind == "Pod" else ()
    return Workload(ns, name, kind, labels, ports, loc, host_network=host_network, node_addresses=addresses)


def _node_addresses(pod: dict) -> tuple[Address, ...]:
    """A hostNetwork pod's addresses are its node's: status.podIPs (or podIP, hostIP) of a live pod."""
    status = pod.get("status")
    if not isinstance(status, dict):
        return ()
    texts = [p.get("ip") for p in status.get("podIPs") or () if isinstance(p, dict)]
    texts += [status.get("podIP"), status.get("hostIP")]
    out: dict[Address, None] = {}
    for text in texts:
        if isinstance(text, str):
            try:
                out.setdefault(ipaddress.ip_address(text), None)
            except ValueError:
                continue
    return tuple(out)


def build_cluster(docs: Iterable[tuple[str, Any]], problems: list[str] | None = None,
                  validated: Mapping[str, list[str]] | None = None) -> Cluster:
    """Turn (location, object) pairs into a Cluster; raises ManifestError listing every problem. `validated`: the
    CRD problems of custom resources already checked, by location (`read_documents`)."""
    problems = [] if problems is None else problems
    validated = {} if validated is None else validated
    cluster = Cluster()
    skipped: Counter = Counter()
    declared_ns: dict[str, Namespace] = {}
    candidates: list[tuple[str, str, str, dict, dict, str]] = []  # kind, ns, name, meta, obj, loc
    policies_raw: list[tuple[str, str, dict, str]] = []
    cluster_raw: dict[tuple[str, str], tuple[dict, str]] = {}  # (kind, name) -> object; the last one wins

    for loc, obj in _flatten(docs, problems):
        kind = obj.get("kind")
        api = obj.get("apiVersion")
        if not isinstance(kind, str) or not kind:
            problems.append(f"{loc}: kind: required")
            continue
        name, ns, meta, labels = _meta(kind, obj, loc, problems)
        if not name:
            continue
        # Only kinds we model are defaulted to `default`: others may be cluster-scoped (ClusterRole, ...).
        modelled = kind in WORKLOAD_KINDS or kind == "NetworkPolicy"
        cluster.resources.append(Resource(kind, ns or ("default" if modelled else None), name, obj, loc))
        if kind == "Namespace":
            labels[NAME_LABEL] = name  # the API server always sets it, whatever the manifest says
            declared_ns[name] = Namespace(name, labels, True)
        elif kind in WORKLOAD_KINDS:
            candidates.append((kind, ns or "default", name, meta, obj, loc))
        elif kind == "NetworkPolicy" and api == "networking.k8s.io/v1":
            policies_raw.append((ns or "default", name, obj, loc))
        elif customresources.is_custom_resource(obj):
            # The network-policy-api kinds: the API server would check them against their CRD (any version it
            # does not serve is refused); the engine evaluates those it reads. Cluster-scoped, so a
            # metadata.namespace is ignored, as the API server does.
            refused = validated[loc] if loc in validated else customresources.problems(obj)
            problems.extend(f"{loc}: {p}" for p in refused)
            if not refused and is_cluster_policy(kind, api):
                cluster_raw[(kind, name)] = (obj, loc)
        else:
            skipped[f"NetworkPolicy ({api})" if kind == "NetworkPolicy" else kind] += 1

    # The same object given twice (a file passed twice, a render next to an export) is one object; the last
    # occurrence wins, as with `kubectl apply`, and the user hears about it: the two may well differ.
    cluster.warnings += _duplicates([(r.key, r.source) for r in cluster.resources])
    candidates = list({(c[0], c[1], c[2]): c for c in candidates}.values())
    policies_raw = list({(p[0], p[1]): p for p in policies_raw}.values())
    present = {(k, ns, n) for k, ns, n, *_ in candidates}

    def present_owner(kind: str, ns: str, meta: dict) -> tuple[str, str, str] | None:
        owner = _controller(meta)
        if owner is None:
            return None
        okind, oname = owner
        if (okind, ns, oname) in present:
            return (okind, ns, oname)
        if kind == "Pod" and okind == "ReplicaSet":
            tmpl_hash = (meta.get("labels") or {}).get("pod-template-hash")
            if tmpl_hash and oname.endswith(f"-{tmpl_hash}") and ("Deployment", ns, oname[: -len(tmpl_hash) - 1]) in present:
                return ("Deployment", ns, oname[: -len(tmpl_hash) - 1])
        if kind in ("Pod", "Job") and okind == "Job":
            prefix, _, suffix = oname.rpartition("-")
            if suffix.isdigit() and ("CronJob", ns, prefix) in present:
                return ("CronJob", ns, prefix)
        return None

    by_key = {(c[0], c[1], c[2]): c for c in candidates}

    def root(key: tuple[str, str, str]) -> tuple[str, str, str]:
        """The outermost present controller of an object (a Pod -> its ReplicaSet -> its Deployment)."""
        for _ in range(8):  # ownership is shallow; a cycle in hand-written input must not loop
            owner = present_owner(key[0], key[1], by_key[key][3])
            if owner is None or owner == key:
                break
            key = owner
        return key

    # When a controller's pods are in the input, their own labels decide, not the template's: a running pod also
    # carries the controller's per-pod labels (pod-template-hash, statefulset.kubernetes.io/pod-name, ...) and
    # whatever a webhook or `kubectl label` added. Finished pods (and Jobs) carry no flows.
    live_pods: dict[tuple[str, str, str], list[tuple[str, str, str, dict, dict, str]]] = {}
    roots = []
    for cand in candidates:
        kind, ns, name, meta, obj, loc = cand
        if (kind == "Pod" and _pod_finished(obj)) or (kind == "Job" and _job_finished(obj)):
            cluster.finished += 1
            continue
        top = root((kind, ns, name))
        if top == (kind, ns, name):
            roots.append(cand)
        elif kind == "Pod":
            live_pods.setdefault(top, []).append(cand)
        else:
            cluster.folded += 1  # an intermediate controller (a Deployment's ReplicaSet, a CronJob's Job)

    workloads: list[Workload] = []
    for kind, ns, name, _, obj, loc in roots:
        pods = live_pods.get((kind, ns, name), [])
        if not pods:
            w = _workload(kind, ns, name, obj, loc, problems)
            if w is not None:
                workloads.append(w)
            continue
        members = [w for w in (_workload("Pod", ns, pn, po, pl, problems) for _, _, pn, _, po, pl in pods) if w]
        shapes = {(frozenset(w.labels.items()), w.ports, w.host_network) for w in members}
        if len(shapes) <= 1 and members:
            # Every pod looks the same to every policy: show them as their controller.
            first = members[0]
            addresses = tuple(dict.fromkeys(a for w in members for a in w.node_addresses))
            workloads.append(Workload(ns, name, kind, first.labels, first.ports, loc,
                                      host_network=first.host_network, node_addresses=addresses))
            cluster.folded += len(pods)
            for w in members:  # a pod's own name (as `kubectl get pods` shows it) names its controller here
                cluster.aliases[f"{ns}/{w.name}"] = f"{ns}/{name}"
            continue
        owner = f"{ns}/{name}"
        for w in members:
            w.owner = owner
        workloads.extend(members)
        differing = sorted({k for w in members for k in w.labels
                            if len({m.labels.get(k) for m in members}) > 1})
        what = f"pod-specific labels ({', '.join(differing)})" if differing else "pod-specific container ports"
        cluster.split[owner] = sorted(f"{ns}/{w.name}" for w in members)
        cluster.notes.append(f"{owner} ({kind}): its {len(members)} pods carry {what}, so each is analysed on its "
                             f"own: {', '.join(cluster.split[owner])}")

    for w in workloads:
        if w.host_network:
            where = (f"its node's address ({', '.join(map(str, w.node_addresses))})" if w.node_addresses
                     else "its node's address (not in the input, so no ipBlock is taken to match it)")
            cluster.notes.append(f"{w.namespace}/{w.name} runs with hostNetwork: NetworkPolicy does not apply to it "
                                 f"(never isolated) and its traffic carries {where}; pod and namespace selectors "
                                 "never match it")

    # Same name, different kinds in one namespace: keep endpoints unique and say which kind is meant.
    seen: Counter = Counter((w.namespace, w.name) for w in workloads)
    for w in workloads:
        if seen[(w.namespace, w.name)] > 1:
            w.endpoint = f"{w.namespace}/{w.kind.lower()}/{w.name}"

    policies = []
    for ns, name, obj, loc in policies_raw:
        p = _parse_policy(obj, name, ns, loc, problems)
        if p is not None:
            policies.append(p)

    cluster_policies = []
    for (kind, name), (obj, loc) in cluster_raw.items():
        cp = parse_cluster_policy(obj, kind, name, loc, problems)
        if cp is not None:
            cluster_policies.append(cp)

    raise_if_any(problems, ManifestError)

    namespaces = dict(declared_ns)
    for ns in [w.namespace for w in workloads] + [p.namespace for p in policies]:
        if ns not in namespaces:
            namespaces[ns] = Namespace(ns, {NAME_LABEL: ns}, declared=False)
    cluster.namespaces = namespaces
    cluster.workloads = workloads
    cluster.policies = policies
    cluster.cluster_policies = cluster_policies
    cluster.skipped = skipped
    return cluster


@contextmanager
def gc_paused():
    """Loading allocates hundreds of thousands of long-lived objects and creates no cycles worth collecting;
    letting the cyclic GC rescan them repeatedly cost a third of the load time at 1,000 tenants."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_paths(paths: list[str]) -> Cluster:
    """Read manifests from files, directories (recursively: *.yaml, *.yml, *.json) or '-' (stdin)."""
    problems: list[str] = []
    validated: dict[str, list[str]] = {}
    with gc_paused():
        docs = read_documents(paths, problems, validated)
        return build_cluster(docs, problems, validated)


def load_objects(objs: list[dict], source: str = "<memory>") -> Cluster:
    """Same as `load_paths` for already-parsed objects; object i is located as "<source> doc i".

    Objects are counted from 1, like documents in a file."""
    with gc_paused():
        return build_cluster(((f"{source} doc {i}", o) for i, o in enumerate(objs, 1)), [])
