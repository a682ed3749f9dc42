"""A small hand-written cluster (one app's three tiers, an intruder, the policies between them) shared by the CLI
and diff tests. A helper module, not a test module."""

from __future__ import annotations

SHOP = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"tenancy/tenant": "acme"}}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}},
]


def tier(ns, name, component, port, port_name="http", kind="Deployment"):
    labels = {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/component": component}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": ns},
            "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
                {"name": "c", "ports": [{"name": port_name, "containerPort": port}]}]}}}}


def np(name, spec, ns="shop"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def comp(c):
    return {"matchLabels": {"app.kubernetes.io/component": c}}


OBJS = SHOP + [
    tier("shop", "frontend", "frontend", 8080),
    tier("shop", "backend", "backend", 8000),
    tier("shop", "database", "database", 5432, "pg", "StatefulSet"),
    tier("other", "intruder", "backend", 8000),
    np("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
    np("db-allow-backend", {"podSelector": comp("database"),
                            "ingress": [{"from": [{"podSelector": comp("backend")}], "ports": [{"port": 5432}]}]}),
    np("backend-egress", {"podSelector": comp("backend"), "policyTypes": ["Egress"],
                          "egress": [{"to": [{"podSelector": comp("database")}], "ports": [{"port": "pg"}]},
                                     {"to": [{"namespaceSelector": {}}], "ports": [{"port": 53, "protocol": "UDP"}]}]}),
    np("backend-from-frontend", {"podSelector": comp("backend"),
                                 "ingress": [{"from": [{"podSelector": comp("frontend")}],
                                              "ports": [{"port": 8000, "endPort": 8080}]}]}),
    np("frontend-egress", {"podSelector": comp("frontend"), "policyTypes": ["Egress"],
                           "egress": [{"to": [{"podSelector": comp("backend")}], "ports": [{"port": 8000}]},
                                      {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]}),
    np("frontend-lb", {"podSelector": comp("frontend"),
                       "ingress": [{"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 8080}]}]}),
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "frontend", "namespace": "shop"}},
]
