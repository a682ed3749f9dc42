"""A stack's render on a lab of its own, with the cluster around it (DNS and Prometheus stand-ins from the stack's
config, and an intruder namespace), the way the seed scenarios model it for the engine.

Before the render's policies reach the lab, every workload is probed against every other on two ports: what the
cluster does "by default" (scenario 1) is then a measurement, not an assumption.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kube.customresources import is_custom_resource
from tenancy.lab import apply as lab_apply
from tenancy.lab import deploy, down, up
from tenancy.lab.probe import Lab
from tenancy.render import to_yaml
from tests.conftest import rendered
from analysis.checks.proof import intruder_objects

# The outside addresses `lab deploy` verifies with (one in the load-balancer range, the internet, a private range,
# the metadata endpoint).
EXTERNALS = deploy.EXTERNALS
BEFORE_PORTS = ("8080/TCP", "5432/TCP")

Flow = tuple[str, str, str]


@dataclass
class StackLab:
    stack: str
    workdir: Path
    paths: list[str]  # the render's directory and the context's
    config: object  # stackconfig.StackConfig
    workloads: list[str]
    before: dict[Flow, str] = field(default_factory=dict)  # probed before any policy was applied

    def probe(self, flows: Iterable[Flow]) -> dict[Flow, str]:
        flows = list(flows)
        answers = Lab(self.workdir).probe_batch([{"from": s, "to": d, "port": p} for s, d, p in flows])
        errors = [a for a in answers if "error" in a]
        assert not errors, errors[:3]
        return {flow: answer["verdict"] for flow, answer in zip(flows, answers, strict=True)}

    def verdict(self, source: str, destination: str, port: str) -> str:
        return self.probe([(source, destination, port)])[(source, destination, port)]


def _is_policy(obj: dict) -> bool:
    return obj["kind"] == "NetworkPolicy" or is_custom_resource(obj)


def stack_lab(root: Path, stack: str) -> Iterator[StackLab]:
    """Up a lab, apply the stack (workloads first, probed, then the policies), yield it, and tear it down."""
    from analysis.checks.cluster_context import context_objects
    from analysis.reachability import load_paths

    render = rendered(stack)
    config = render.parsed.config
    (root / "render").mkdir(parents=True)
    for name, docs in render.by_file().items():
        (root / "render" / name).write_text(to_yaml(docs))
    (root / "context").mkdir()
    (root / "context" / "context.yaml").write_text(to_yaml([*context_objects(config.cluster), *intruder_objects()]))
    paths = [str(root / "render"), str(root / "context")]
    docs = lab_apply.load(paths)
    workdir = root / "lab"
    try:
        up.up(workdir, up.binaries())
        lab_apply.apply(workdir, [d for d in docs if not _is_policy(d)])
        workloads = sorted(w.endpoint for w in load_paths(paths).workloads)
        lab = StackLab(stack, workdir, paths, config, workloads)
        lab.before = lab.probe((s, d, p) for s in workloads for d in workloads if s != d for p in BEFORE_PORTS)
        lab_apply.apply(workdir, docs)
        yield lab
    finally:
        down.teardown(workdir)
