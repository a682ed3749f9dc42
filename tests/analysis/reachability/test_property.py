"""Property: the optimised engine equals a deliberately naive reference on random small clusters.

The reference below reads the raw manifests and re-derives NetworkPolicy semantics straight from the API text,
pair by pair, policy by policy, sharing no code with the engine. The same holds on clusters that mix
NetworkPolicy with ClusterNetworkPolicy (both tiers), AdminNetworkPolicy and BaselineAdminNetworkPolicy, where the
reference walks the tiers as the network-policy-api text orders them (per direction: Admin tier by priority then
rule order, NetworkPolicy for an isolated pod, Baseline tier, allow). Raise the example count with
HYPOTHESIS_EXAMPLES=2000 for a longer run.
"""

from __future__ import annotations

import ipaddress
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.reachability import Engine, ManifestError, PortSet, load_objects
from analysis.reachability.clusterpolicy import parse_cluster_policy

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))

NS_NAMES = ["n1", "n2", "n3"]
LABELS = {"app": ["web", "db"], "tier": ["fe", "be"]}
NS_LABELS = {"env": ["prod", "dev"], "team": ["a", "b"]}
CONTAINER_PORTS = [("http", 80, "TCP"), ("http", 8080, "TCP"), ("dns", 53, "UDP"), ("metrics", 9090, "TCP"),
                   ("sctp", 80, "SCTP"), (None, 85, "TCP")]
EXTERNALS = ["10.1.2.3", "10.2.0.1", "8.8.8.8", "2001:db8::1"]
PORTS = [(80, "TCP"), (85, "TCP"), (8080, "TCP"), (53, "UDP"), (80, "SCTP"), (9090, "TCP"), (80, "UDP")]


# ------------------------------------------------------------------------------------------------ generators

def labels_strategy(vocab):
    return st.dictionaries(st.sampled_from(sorted(vocab)), st.just(None), max_size=2).flatmap(
        lambda keys: st.fixed_dictionaries({k: st.sampled_from(vocab[k]) for k in keys}))


def selector_strategy(vocab):
    keys = sorted(vocab)
    expr = st.one_of(
        st.builds(lambda k, vs: {"key": k, "operator": "In", "values": vs}, st.sampled_from(keys),
                  st.lists(st.sampled_from(["web", "db", "fe", "be", "prod", "dev", "a", "b"]), min_size=1, max_size=2)),
        st.builds(lambda k, vs: {"key": k, "operator": "NotIn", "values": vs}, st.sampled_from(keys),
                  st.lists(st.sampled_from(["web", "db", "fe", "be", "prod", "dev", "a", "b"]), min_size=1, max_size=2)),
        st.builds(lambda k: {"key": k, "operator": "Exists"}, st.sampled_from(keys)),
        st.builds(lambda k: {"key": k, "operator": "DoesNotExist"}, st.sampled_from(keys)),
    )
    return st.builds(
        lambda ml, me: {**({"matchLabels": ml} if ml else {}), **({"matchExpressions": me} if me else {})},
        labels_strategy(vocab), st.lists(expr, max_size=2))


peer_strategy = st.one_of(
    st.builds(lambda p: {"podSelector": p}, selector_strategy(LABELS)),
    st.builds(lambda n: {"namespaceSelector": n}, selector_strategy(NS_LABELS)),
    st.builds(lambda p, n: {"podSelector": p, "namespaceSelector": n}, selector_strategy(LABELS),
              selector_strategy(NS_LABELS)),
    st.sampled_from([{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                     {"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "2001:db8::/32"}}]),
)

port_strategy = st.sampled_from([
    {"port": 80}, {"port": 80, "endPort": 90}, {"port": 8000, "endPort": 8080, "protocol": "TCP"},
    {"port": "http"}, {"protocol": "UDP"}, {"port": "dns", "protocol": "UDP"}, {"port": 53, "protocol": "UDP"},
    {"port": "metrics"}, {"port": "sctp", "protocol": "SCTP"}, {"port": "http", "protocol": "UDP"},
    {"port": 80, "protocol": "SCTP"},
])


def rule_strategy(peer_key):
    return st.builds(
        lambda peers, ports: {**({peer_key: peers} if peers is not None else {}),
                              **({"ports": ports} if ports is not None else {})},
        st.one_of(st.none(), st.just([]), st.lists(peer_strategy, min_size=1, max_size=2)),
        st.one_of(st.none(), st.just([]), st.lists(port_strategy, min_size=1, max_size=2)),
    )


policy_strategy = st.builds(
    lambda ns, sel, types, ingress, egress: {
        "namespace": ns, "podSelector": sel,
        **({"policyTypes": types} if types is not None else {}),
        **({"ingress": ingress} if ingress is not None else {}),
        **({"egress": egress} if egress is not None else {}),
    },
    st.sampled_from(NS_NAMES), selector_strategy(LABELS),
    st.one_of(st.none(), st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]])),
    st.one_of(st.none(), st.lists(rule_strategy("from"), max_size=2)),
    st.one_of(st.none(), st.lists(rule_strategy("to"), max_size=2)),
)

workload_strategy = st.builds(
    lambda ns, labels, ports: (ns, labels, ports),
    st.sampled_from(NS_NAMES), labels_strategy(LABELS),
    st.lists(st.sampled_from(CONTAINER_PORTS), max_size=3, unique_by=lambda p: p[0] or p[1]),
)


@st.composite
def clusters(draw):
    declared = draw(st.lists(st.sampled_from(NS_NAMES), unique=True, max_size=3))
    ns_labels = {n: draw(labels_strategy(NS_LABELS)) for n in declared}
    workloads = draw(st.lists(workload_strategy, min_size=1, max_size=5))
    policies = draw(st.lists(policy_strategy, max_size=4))
    objs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": ns_labels[n]}}
            for n in declared]
    for i, (ns, labels, ports) in enumerate(workloads):
        objs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"w{i}", "namespace": ns},
                     "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "c", "ports": [{**({"name": n} if n else {}), "containerPort": p, "protocol": pr}
                                                 for n, p, pr in ports]}]}}}})
    for i, p in enumerate(policies):
        spec = {k: v for k, v in p.items() if k != "namespace"}
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": f"p{i}", "namespace": p["namespace"]}, "spec": spec})
    return objs


GROUP = "policy.networking.k8s.io"
CLUSTER_KINDS = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")
NETWORKS = ["0.0.0.0/0", "10.0.0.0/8", "::/0", "0.0.0.0/1", "128.0.0.0/1", "8.8.8.0/24", "2001:db8::/32"]

# Cluster policies select across namespaces, so lean on selectors that often match: {} and namespace names.
cluster_ns_selector = st.one_of(
    st.just({}), st.builds(lambda n: {"matchLabels": {"kubernetes.io/metadata.name": n}}, st.sampled_from(NS_NAMES)),
    selector_strategy(NS_LABELS))
cluster_pod_selector = st.one_of(st.just({}), selector_strategy(LABELS))
ns_peer = st.builds(lambda n: {"namespaces": n}, cluster_ns_selector)
pods_peer = st.builds(lambda n, p: {"pods": {"namespaceSelector": n, "podSelector": p}},
                      cluster_ns_selector, cluster_pod_selector)
egress_only_peers = st.one_of(
    st.builds(lambda nets: {"networks": nets}, st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=2, unique=True)),
    st.just({"nodes": {}}),
    st.just({"domainNames": ["example.com"]}),
)
cnp_protocols = st.sampled_from([
    {"tcp": {"destinationPort": {"number": 80}}}, {"tcp": {"destinationPort": {"range": {"start": 80, "end": 8080}}}},
    {"udp": {"destinationPort": {"number": 53}}}, {"udp": {}}, {"sctp": {"destinationPort": {"number": 80}}},
    {"tcp": {"destinationPort": {"number": 85}}}, {"destinationNamedPort": "http"}, {"destinationNamedPort": "dns"},
])
anp_ports = st.sampled_from([
    {"portNumber": {"port": 80}}, {"portNumber": {"protocol": "UDP", "port": 53}},
    {"portRange": {"start": 80, "end": 9000}}, {"portRange": {"protocol": "SCTP", "start": 70, "end": 90}},
    {"namedPort": "metrics"}, {"namedPort": "http"},
])


def cluster_rule_strategy(kind, direction):
    actions = {"ClusterNetworkPolicy": ["Accept", "Deny", "Pass"], "AdminNetworkPolicy": ["Allow", "Deny", "Pass"],
               "BaselineAdminNetworkPolicy": ["Allow", "Deny"]}[kind]
    peers = st.one_of(ns_peer, pods_peer) if direction == "ingress" else st.one_of(ns_peer, pods_peer, egress_only_peers)
    if kind == "BaselineAdminNetworkPolicy" and direction == "egress":
        peers = peers.filter(lambda p: "domainNames" not in p)
    field, ports = ("protocols", cnp_protocols) if kind == "ClusterNetworkPolicy" else ("ports", anp_ports)
    return st.builds(
        lambda action, ps, pts: {"action": action, ("from" if direction == "ingress" else "to"): ps,
                                 **({field: pts} if pts else {})},
        st.sampled_from(actions), st.lists(peers, min_size=1, max_size=2),
        st.one_of(st.none(), st.lists(ports, min_size=1, max_size=2)))


def cluster_policy_strategy(kind):
    subject = st.one_of(ns_peer, pods_peer)
    return st.builds(
        lambda tier, prio, subj, ingress, egress: {
            "kind": kind, "spec": {**({"tier": tier} if kind == "ClusterNetworkPolicy" else {}),
                                   **({"priority": prio} if kind != "BaselineAdminNetworkPolicy" else {}),
                                   "subject": subj,
                                   **({"ingress": ingress} if ingress else {}), **({"egress": egress} if egress else {})}},
        st.sampled_from(["Admin", "Baseline"]), st.integers(1, 3), subject,
        st.lists(cluster_rule_strategy(kind, "ingress"), max_size=2),
        st.lists(cluster_rule_strategy(kind, "egress"), max_size=2))


@st.composite
def mixed_clusters(draw):
    """NetworkPolicies plus cluster policies of every kind; few priorities, so equal ones (ordered by name) occur."""
    objs = draw(clusters())
    cps = draw(st.lists(cluster_policy_strategy("ClusterNetworkPolicy"), max_size=3))
    cps += draw(st.lists(cluster_policy_strategy("AdminNetworkPolicy"), max_size=2))
    cps += draw(st.lists(cluster_policy_strategy("BaselineAdminNetworkPolicy"), max_size=1))
    for i, cp in enumerate(cps):
        version = "v1alpha2" if cp["kind"] == "ClusterNetworkPolicy" else "v1alpha1"
        name = "default" if cp["kind"] == "BaselineAdminNetworkPolicy" else f"c{i}"
        objs.append({"apiVersion": f"{GROUP}/{version}", "kind": cp["kind"], "metadata": {"name": name},
                     "spec": cp["spec"]})
    return objs


# ------------------------------------------------------------------------------------------------ reference

def ref_selects(sel, labels):
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        has = e["key"] in labels
        val = labels.get(e["key"])
        op = e["operator"]
        if op == "In" and not (has and val in e["values"]):
            return False
        if op == "NotIn" and has and val in e["values"]:
            return False
        if op == "Exists" and not has:
            return False
        if op == "DoesNotExist" and has:
            return False
    return True


class Ref:
    def __init__(self, objs):
        self.ns_labels = {}
        self.pods = {}
        self.policies = []
        for o in objs:
            if o["kind"] == "Namespace":
                self.ns_labels[o["metadata"]["name"]] = dict(o["metadata"].get("labels") or {})
        for o in objs:
            if o["kind"] == "Deployment":
                ns = o["metadata"]["namespace"]
                t = o["spec"]["template"]
                ports = [(p.get("name"), p["containerPort"], p.get("protocol", "TCP"))
                         for c in t["spec"]["containers"] for p in c.get("ports", [])]
                self.pods[f"{ns}/{o['metadata']['name']}"] = (ns, t["metadata"]["labels"], ports)
                self.ns_labels.setdefault(ns, {})
            if o["kind"] == "NetworkPolicy":
                self.policies.append((o["metadata"]["namespace"], o["spec"]))
                self.ns_labels.setdefault(o["metadata"]["namespace"], {})
        # Cluster policies: (tier, priority, name, kind, spec); BaselineAdminNetworkPolicy has no priority (0).
        self.cluster = []
        for o in objs:
            if o["kind"] in ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
                spec = o["spec"]
                tier = spec.get("tier") or ("Admin" if o["kind"] == "AdminNetworkPolicy" else "Baseline")
                self.cluster.append((tier, spec.get("priority", 0), o["metadata"]["name"], o["kind"], spec))
        self.cluster.sort(key=lambda c: (c[1], c[2], c[3]))
        for n, labels in self.ns_labels.items():
            labels["kubernetes.io/metadata.name"] = n

    @staticmethod
    def types(spec):
        if spec.get("policyTypes"):
            return spec["policyTypes"]
        return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]

    def peer_ok(self, peer, pol_ns, other):
        if other.startswith("ip:"):
            if "ipBlock" not in peer:
                return False
            addr = ipaddress.ip_address(other[3:])
            net = ipaddress.ip_network(peer["ipBlock"]["cidr"])
            if addr.version != net.version or addr not in net:
                return False
            return not any(addr.version == ipaddress.ip_network(x).version and addr in ipaddress.ip_network(x)
                           for x in peer["ipBlock"].get("except", []))
        if "ipBlock" in peer:
            return False
        ns, labels, _ = self.pods[other]
        if "namespaceSelector" in peer:
            if not ref_selects(peer["namespaceSelector"], self.ns_labels[ns]):
                return False
        elif ns != pol_ns:
            return False
        return "podSelector" not in peer or ref_selects(peer["podSelector"], labels)

    def port_ok(self, spec, port, proto, dst):
        if spec.get("protocol", "TCP") != proto:
            return False
        if "port" not in spec:
            return True
        p = spec["port"]
        if isinstance(p, int):
            return p <= port <= spec.get("endPort", p)
        if dst.startswith("ip:"):
            return False
        return any(n == p and num == port and pr == proto for n, num, pr in self.pods[dst][2])

    def subject_ok(self, subject, pod):
        ns, labels, _ = self.pods[pod]
        if "namespaces" in subject:
            return ref_selects(subject["namespaces"], self.ns_labels[ns])
        return (ref_selects(subject["pods"].get("namespaceSelector") or {}, self.ns_labels[ns])
                and ref_selects(subject["pods"]["podSelector"], labels))

    def cluster_peer_ok(self, peer, other):
        if other.startswith("ip:"):
            addr = ipaddress.ip_address(other[3:])
            return any(addr.version == ipaddress.ip_network(n).version and addr in ipaddress.ip_network(n)
                       for n in peer.get("networks", []))
        if "networks" in peer:
            # Networks match pod traffic too; pod IPs are unknown IPv4 addresses, so only all of IPv4 surely does.
            v4 = [ipaddress.ip_network(n) for n in peer["networks"] if ipaddress.ip_network(n).version == 4]
            return sum(n.num_addresses for n in ipaddress.collapse_addresses(v4)) == 2 ** 32
        if "namespaces" in peer or "pods" in peer:
            return self.subject_ok(peer, other)
        return False  # nodes, domainNames: not modelled

    def named_ok(self, name, port, proto, dst):
        return not dst.startswith("ip:") and any(n == name and num == port and pr == proto
                                                 for n, num, pr in self.pods[dst][2])

    def cluster_port_ok(self, kind, entry, port, proto, dst):
        if kind == "ClusterNetworkPolicy":
            if "destinationNamedPort" in entry:
                return self.named_ok(entry["destinationNamedPort"], port, proto, dst)
            (p, body), = entry.items()
            if p.upper() != proto:
                return False
            dp = body.get("destinationPort")
            if dp is None:
                return True
            if "number" in dp:
                return dp["number"] == port
            return dp["range"]["start"] <= port <= dp["range"]["end"]
        if "namedPort" in entry:
            return self.named_ok(entry["namedPort"], port, proto, dst)
        if "portNumber" in entry:
            e = entry["portNumber"]
            return e.get("protocol", "TCP") == proto and e["port"] == port
        e = entry["portRange"]
        return e.get("protocol", "TCP") == proto and e["start"] <= port <= e["end"]

    def tier_action(self, tier, direction, judged, other, dst, port, proto):
        key, peer_key = ("ingress", "from") if direction == "in" else ("egress", "to")
        for t, _, _, kind, spec in self.cluster:
            if t != tier or not self.subject_ok(spec["subject"], judged):
                continue
            for rule in spec.get(key) or []:
                if not any(self.cluster_peer_ok(p, other) for p in rule[peer_key]):
                    continue
                entries = rule.get("protocols" if kind == "ClusterNetworkPolicy" else "ports")
                if entries and not any(self.cluster_port_ok(kind, e, port, proto, dst) for e in entries):
                    continue
                return "Accept" if rule["action"] == "Allow" else rule["action"]
        return None

    def side_ok(self, direction, judged, other, dst, port, proto):
        if judged.startswith("ip:"):
            return True
        admin = self.tier_action("Admin", direction, judged, other, dst, port, proto)
        if admin in ("Accept", "Deny"):
            return admin == "Accept"
        isolated, admitted = self.np_side(direction, judged, other, dst, port, proto)
        if isolated:
            return admitted
        return self.tier_action("Baseline", direction, judged, other, dst, port, proto) != "Deny"

    def np_side(self, direction, judged, other, dst, port, proto):
        """(isolated, admitted) by the NetworkPolicies selecting `judged` in `direction`."""
        ns, labels, _ = self.pods[judged]
        key, peer_key, kind = ("ingress", "from", "Ingress") if direction == "in" else ("egress", "to", "Egress")
        isolated = False
        for pol_ns, spec in self.policies:
            if pol_ns != ns or kind not in self.types(spec) or not ref_selects(spec.get("podSelector") or {}, labels):
                continue
            isolated = True
            for rule in spec.get(key) or []:
                peers = rule.get(peer_key)
                if peers and not any(self.peer_ok(p, pol_ns, other) for p in peers):
                    continue
                specs = rule.get("ports")
                if specs and not any(self.port_ok(s, port, proto, dst) for s in specs):
                    continue
                return True, True
        return isolated, False

    def allowed(self, src, dst, port, proto):
        return self.side_ok("out", src, dst, dst, port, proto) and self.side_ok("in", dst, src, dst, port, proto)


# ------------------------------------------------------------------------------------------------ properties

def load_mixed(objs):
    """Standard-channel objects go through the loader, which checks them against the shipped CRDs; objects using
    experimental-channel fields (nodes, domainNames, named ports, a protocol without a port) are refused there, so
    their cluster policies are parsed the way a cluster serving the experimental channel would hand them over."""
    try:
        return load_objects(objs)
    except ManifestError:
        cluster = load_objects([o for o in objs if o["kind"] not in CLUSTER_KINDS])
        problems: list[str] = []
        for o in objs:
            if o["kind"] in CLUSTER_KINDS:
                cluster.cluster_policies.append(parse_cluster_policy(o, o["kind"], o["metadata"]["name"], "x", problems))
        assert not problems, problems
        return cluster


def assert_matrix_equals_reference(objs, engine):
    ref = Ref(objs)
    endpoints = engine.workloads + [f"ip:{a}" for a in EXTERNALS]
    matrices = engine.matrix(PORTS, EXTERNALS)
    flows = engine.flows(EXTERNALS)
    for (port, proto), m in matrices.items():
        for s in endpoints:
            for d in endpoints:
                if s == d:
                    continue
                want = ref.allowed(s, d, port, proto)
                assert m[s][d] == want, (s, d, port, proto)
                assert engine.verdict(s, d, port, proto).allowed == want, (s, d, port, proto)
                if not (s.startswith("ip:") and d.startswith("ip:")):
                    assert ((port, proto) in flows.get((s, d), PortSet())) == want, (s, d, port, proto)


def assert_flows_equal_allowed_ports(engine):
    endpoints = engine.workloads + [f"ip:{a}" for a in EXTERNALS]
    flows = engine.flows(EXTERNALS)
    for s in endpoints:
        for d in endpoints:
            if s == d or (s.startswith("ip:") and d.startswith("ip:")):
                continue
            assert flows.get((s, d), PortSet()) == engine.allowed_ports(s, d), (s, d)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_matrix_equals_naive_reference(objs):
    assert_matrix_equals_reference(objs, Engine(load_objects(objs)))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_flows_equal_pairwise_allowed_ports(objs):
    assert_flows_equal_allowed_ports(Engine(load_objects(objs)))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_clusters())
def test_matrix_equals_naive_reference_with_cluster_policies(objs):
    assert_matrix_equals_reference(objs, Engine(load_mixed(objs)))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_clusters())
def test_flows_equal_pairwise_allowed_ports_with_cluster_policies(objs):
    assert_flows_equal_allowed_ports(Engine(load_mixed(objs)))
