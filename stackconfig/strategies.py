"""Hypothesis strategies for valid stack configs: 1-8 tenants, 1-3 apps each, random ports, LB ranges, internet
egress flags and consumers. Everything drawn is valid by construction; `parse_config` must accept it.

Shipped next to the model rather than under tests/ because the property tests and the long campaign of
bench/property.py draw from the same distribution; the program never imports it (hypothesis comes with the
`test` extra)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

PORTS = st.integers(min_value=1024, max_value=65535)


@st.composite
def app_config(draw, name: str, lb_pool: list[int]) -> dict:
    metrics = draw(PORTS)
    serving = st.integers(min_value=1, max_value=65535).filter(lambda p: p != metrics)
    app: dict = {
        "name": name,
        "metricsPort": metrics,
        "frontend": {"image": "nginxinc/nginx-unprivileged:1.27", "port": draw(serving), "replicas": 1},
        "backend": {"image": "example/api:1", "port": draw(serving), "replicas": 1,
                    "internetEgress": draw(st.booleans())},
        "database": {"port": draw(serving), "storage": "1Gi"},
    }
    if lb_pool and draw(st.booleans()):
        # Disjoint /24s from TEST-NET-3 and the benchmarking range: never overlapping, never private.
        count = draw(st.integers(min_value=1, max_value=min(2, len(lb_pool))))
        ranges = [f"198.18.{lb_pool.pop()}.0/24" for _ in range(count)]
        if draw(st.booleans()):
            ranges.append(f"2001:db8:{lb_pool.pop() if lb_pool else 4000:x}::/48")
        app["frontend"]["loadBalancer"] = {"sourceRanges": ranges}
    return app


@st.composite
def stack_config(draw) -> dict:
    tenant_count = draw(st.integers(min_value=1, max_value=8))
    lb_pool = list(range(256))
    tenants: list[dict[str, Any]] = []
    for t in range(tenant_count):
        app_count = draw(st.integers(min_value=1, max_value=3))
        apps = [draw(app_config(f"app{a}", lb_pool)) for a in range(app_count)]
        tenants.append({
            "name": f"tenant{t}",
            "quota": {"cpu": "100", "memory": "200Gi", "pods": 500, "storage": "1Ti"},
            "apps": apps,
        })
    every_app = [(t["name"], a["name"]) for t in tenants for a in t["apps"]]
    for tenant in tenants:
        for app in tenant["apps"]:
            others = [ta for ta in every_app if ta != (tenant["name"], app["name"])]
            if others and draw(st.booleans()):
                chosen = draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
                app["consumers"] = [{"tenant": t, "app": a, "tier": draw(st.sampled_from(["backend", "frontend"]))}
                                    for t, a in chosen]
    cluster = {
        "cni": draw(st.sampled_from(["calico", "cilium", "antrea"])),
        "egressProxy": {"port": draw(st.sampled_from([3128, 8080, 8888])),
                        "internetPorts": draw(st.lists(st.sampled_from([80, 443, 8443]), min_size=1, max_size=3, unique=True))},
    }
    return {"cluster": cluster, "tenants": tenants}
