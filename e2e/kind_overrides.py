"""Make a stack's config deployable on a throwaway kind cluster, in place:

    python e2e/kind_overrides.py Pulumi.dev.yaml

`pulumi up` waits for every Deployment and StatefulSet to become ready and for every LoadBalancer Service to get
an address, and the stack files name what a bare kind cluster cannot provide: placeholder images, a database that
needs its password Secret, a load balancer, and a squid proxy whose start-up is not what this test is about. So every tier gets a tiny listener
image serving its own port, the database loses its `passwordSecret` reference, frontends lose `loadBalancer`
(kind has no load-balancer controller; the ranges it opens are external addresses, which the probe cannot
observe from inside the cluster anyway), and the egress proxy becomes an unprivileged nginx on 8080.

Nothing that decides a pod-to-pod flow changes: namespaces, labels, tiers, consumers, internet egress, metrics
ports and the proxy's CIDRs stay as written; only the proxy port moves, and the e2e job renders its prediction
from this same rewritten file, so prediction and cluster always describe one config. Run it in CI checkouts
only: it rewrites the file without its comments.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import yaml

# Serves HTTP on $WHOAMI_PORT_NUMBER from a static binary: runs as any uid on a read-only root filesystem.
LISTENER_IMAGE = "traefik/whoami:v1.10.1"
LISTENER_PORT_ENV = "WHOAMI_PORT_NUMBER"
# Listens on 8080 as any non-root user with only /tmp writable; the proxy spec offers no env to pick a port.
PROXY_IMAGE = "nginxinc/nginx-unprivileged:1.27"
PROXY_PORT = 8080
# The program's defaults (stackconfig.models) for tiers that leave `port` out.
DEFAULT_PORTS = {"frontend": 8080, "backend": 8080, "database": 5432}
TIERS = tuple(DEFAULT_PORTS)


def runnable_on_kind(config: dict) -> dict:
    """A copy of a `Pulumi.<stack>.yaml` document with the overrides above applied."""
    document = copy.deepcopy(config)
    values = document.setdefault("config", {})
    for tenant in values.get("tenancy:tenants") or []:
        for app in tenant.get("apps") or []:
            for tier in TIERS:
                spec = app.get(tier)
                if spec is None and tier != "database":
                    continue
                spec = app.setdefault(tier, {}) if spec is None else spec
                port = spec.get("port", DEFAULT_PORTS[tier])
                spec["image"] = LISTENER_IMAGE
                spec["env"] = {**(spec.get("env") or {}), LISTENER_PORT_ENV: str(port)}
                if tier == "database":
                    # A fresh cluster has no such Secret, and the listener needs no password.
                    spec.pop("passwordSecret", None)
                if tier == "frontend":
                    spec.pop("loadBalancer", None)
    cluster = values.setdefault("tenancy:cluster", {})
    proxy = cluster.setdefault("egressProxy", {})
    if proxy.get("enabled", True):
        proxy["image"] = PROXY_IMAGE
        proxy["port"] = PROXY_PORT
    return document


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: kind_overrides.py Pulumi.<stack>.yaml", file=sys.stderr)
        return 2
    path = Path(argv[0])
    document = yaml.safe_load(path.read_text())
    path.write_text("# Rewritten by e2e/kind_overrides.py for a kind cluster; do not commit.\n"
                    + yaml.safe_dump(runnable_on_kind(document), sort_keys=False))
    print(f"{path}: tier images -> {LISTENER_IMAGE}, proxy -> {PROXY_IMAGE}:{PROXY_PORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
