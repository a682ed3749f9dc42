"""Issue 9's "done when": `check --stack dev` on a live-shaped export reports every problem with its rule id, and
`explain` gives the true verdict for each.

The export is the dev render as a cluster returns it (controllers with their running pods, which carry
pod-specific labels; namespaces with kubernetes.io/metadata.name; pod status), deployed before the proxy admitted
only declared backends, plus what tenants and others did since:
- acme targets its database pod by `statefulset.kubernetes.io/pod-name` and lets a `kubectl run debug` pod in;
- globex runs a hostNetwork node debugger;
- acme admits `role: dba` pods of any namespace into its database (no such pod exists yet);
- someone created a namespace `mimic` copying acme's tenant label, with a pod copying a backend's labels.
"""

from __future__ import annotations

import yaml

from tenancy.cli import main

from tests.live_export import export, netpol, pod

DB = {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/component": "database"}
OLD_PROXY_INGRESS = {
    "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "tenancy-platform",
                                    "app.kubernetes.io/component": "egress-proxy"}},
    "policyTypes": ["Ingress"],
    "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [{"key": "tenancy/tenant", "operator": "Exists"}]},
                           "podSelector": {"matchLabels": {"tenancy/internet-egress": "true"}}}],
                 "ports": [{"port": 3128, "protocol": "TCP"}]}],
}
def namespaced(objects: list[dict]) -> list[dict]:
    """A cluster deployed before the admin-tier cluster policies: NetworkPolicies alone decide."""
    return [o for o in objects if not (o["kind"].endswith("NetworkPolicy") and o["kind"] != "NetworkPolicy")]


NODE_DEBUGGER = {"hostNetwork": True, "containers": [{"name": "debug", "image": "busybox"}]}


def live_export(manifests: list[dict]) -> list[dict]:
    objects = export(namespaced(manifests), replicas={"shop-database": 2})
    for obj in objects:
        if obj["kind"] == "NetworkPolicy" and obj["metadata"]["name"] == "egress-proxy-from-tenants":
            obj["spec"] = OLD_PROXY_INGRESS  # as deployed by the previous version of the program
    return [
        *objects,
        # 1. a pod-name label reaching one database pod from a debug pod
        netpol("acme", "debug-into-db", {
            "podSelector": {"matchLabels": {"statefulset.kubernetes.io/pod-name": "shop-database-0"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"run": "debug"}}}],
                         "ports": [{"port": 5432, "protocol": "TCP"}]}]}),
        netpol("acme", "debug-egress", {"podSelector": {"matchLabels": {"run": "debug"}}, "policyTypes": ["Egress"],
                                        "egress": [{}]}),
        pod("acme", "debug", {"run": "debug"}),
        # 2. a hostNetwork pod in a tenant namespace
        pod("globex", "node-debugger", {"run": "node-debugger"}, NODE_DEBUGGER),
        # 3. a latent cross-namespace selector
        netpol("acme", "dba-into-db", {"podSelector": {"matchLabels": DB}, "policyTypes": ["Ingress"],
                                       "ingress": [{"from": [{"namespaceSelector": {},
                                                              "podSelector": {"matchLabels": {"role": "dba"}}}],
                                                    "ports": [{"port": 5432, "protocol": "TCP"}]}]}),
        # 4. a mimic namespace reaching the proxy
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "mimic", "labels": {"tenancy/tenant": "acme", "kubernetes.io/metadata.name": "mimic"}}},
        pod("mimic", "curl", {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/component": "backend",
                              "tenancy/internet-egress": "true"}),
    ]


def test_check_reports_each_problem_of_a_live_export_with_its_rule(dev, tmp_path, capsys):
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump_all(live_export(dev.manifests()), sort_keys=False))
    assert main(["check", str(path), "--stack", "dev"]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()

    def reported(rule: str, subject: str) -> bool:
        return any(line.startswith(f"{rule} {subject}") for line in lines)

    # 1. the database pod named by its pod-name label, reached from the debug pod
    assert reported("database-ingress", "acme/debug -> acme/shop-database-0"), lines
    assert not reported("database-ingress", "acme/debug -> acme/shop-database-1"), lines
    assert reported("tenant-authored-widening", "NetworkPolicy acme/debug-into-db"), lines
    # 2. the hostNetwork pod
    assert reported("tenant-host-network", "Pod globex/node-debugger"), lines
    # 3. the latent selector: a role=dba pod another tenant (or anyone creating a namespace) could make
    assert reported("cross-tenant-flow", "globex/witness-"), lines
    assert reported("database-ingress", "witness-ns-"), lines
    assert reported("tenant-authored-widening", "NetworkPolicy acme/dba-into-db"), lines
    # 4. the mimic namespace reaching the proxy through the old proxy policy
    assert reported("egress-via-proxy", "mimic/curl -> egress-proxy/egress-proxy"), lines
    # the output says how pods were analysed
    assert "note: acme/shop-database (StatefulSet): its 2 pods carry pod-specific labels" in err
    assert "note: globex/node-debugger runs with hostNetwork" in err


def _explain(path: str, src: str, dst: str, port: str, capsys) -> str:
    assert main(["explain", path, "--from", src, "--to", dst, "--port", port]) == 0
    return capsys.readouterr().out.splitlines()[0]


def test_explain_gives_the_true_verdict_for_each(dev, tmp_path, capsys):
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump_all(live_export(dev.manifests()), sort_keys=False))
    p = str(path)
    assert _explain(p, "acme/debug", "acme/shop-database-0", "5432/TCP", capsys).endswith("ALLOWED")
    assert "DENIED" in _explain(p, "acme/debug", "acme/shop-database-1", "5432/TCP", capsys)
    assert _explain(p, "globex/node-debugger", "ip:192.0.2.10", "443/TCP", capsys).endswith("ALLOWED")
    assert _explain(p, "mimic/curl", "egress-proxy/egress-proxy", "3128/TCP", capsys).endswith("ALLOWED")
    # a pod's own name (as kubectl shows it) names its folded controller
    assert _explain(p, "acme/shop-backend-7d9f8c6b5-ax0", "acme/shop-database-1", "5432/TCP",
                    capsys).endswith("ALLOWED")
