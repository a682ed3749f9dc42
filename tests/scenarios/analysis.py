"""A render of the tool itself proved like a config: the render's manifests, with the cluster around them."""

from __future__ import annotations

from analysis.checks.proof import Proof, prove
from tenancy.render import Render


def analyse(render: Render, extra: list[dict] = ()) -> Proof:
    config = render.parsed.config
    return prove(config, render.manifests(), extra)
