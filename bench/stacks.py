"""Generated stacks of N tenants, for benchmarks and scale checks (a script and a module, not a test).

    venv/bin/python bench/stacks.py --tenants 300,1000 --out /tmp/stacks     # writes Pulumi.t300.yaml, ...

Each tenant has one three-tier app; every third app has a load balancer, internet egress and its neighbour as a
consumer (the shape bench/render.py measures). `manifests(n)` gives the same stack's objects straight from the
pure builders (what the program registers, without Pulumi), for benchmarks of the analyses.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml


class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Writes manifests as `tenancy render` and kubectl do: without anchors and aliases. The builders share dicts
    (one selector in several policies), which the default dumper writes as `&id001`/`*id001`; the manifest loader's
    fast path leaves any file with an alias to the safe loader (about 4x slower), so a benchmark's own files must
    not have them."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def tenants(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        app: dict[str, Any] = {
            "name": "app",
            "frontend": {"image": "nginxinc/nginx-unprivileged:1.27", "replicas": 1},
            "backend": {"image": "example/api:1", "replicas": 1, "internetEgress": i % 3 == 0},
            "database": {"storage": "1Gi"},
        }
        if i % 3 == 0:
            app["frontend"]["loadBalancer"] = {"sourceRanges": [f"198.51.{i % 250}.0/24"]}
            if n > 1:
                app["consumers"] = [{"tenant": f"t{(i + 1) % n:04d}", "app": "app"}]
        out.append({"name": f"t{i:04d}", "apps": [app]})
    return out


def stack_document(n: int) -> dict[str, Any]:
    """A `Pulumi.<stack>.yaml` document of n tenants."""
    return {"config": {"tenancy:cluster": {"cni": "calico"}, "tenancy:tenants": tenants(n)}}


def write_stack(n: int, out: Path) -> Path:
    path = out / f"Pulumi.t{n}.yaml"
    path.write_text(yaml.safe_dump(stack_document(n), sort_keys=False), encoding="utf-8")
    return path


def manifests(n: int) -> list[dict[str, Any]]:
    """The objects the program registers for the n-tenant stack, from the pure builders (no Pulumi)."""
    from specs.plan import stack_objects
    from stackconfig import parse_config

    config = parse_config({"cluster": {"cni": "calico"}, "tenants": tenants(n)}).config
    return stack_objects(config)


def write_manifests(n: int, path: Path) -> Path:
    path.write_text(yaml.dump_all(manifests(n), Dumper=Dumper, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", default="300,1000", help="comma-separated tenant counts")
    parser.add_argument("--out", type=Path, required=True, help="directory for the Pulumi.t<N>.yaml files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for n in (int(s) for s in args.tenants.split(",")):
        print(write_stack(n, args.out))


if __name__ == "__main__":
    main()
