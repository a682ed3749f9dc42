"""Reviewing a change: two manifest sets compared by the engine (`diff`) and turned into what a reviewer acts on
(headline, warnings, PR comment).

Pure (no Pulumi, no git): `review_clusters(old, new, title)` -> `Review`; `headline`, `render_text`,
`render_json`; `render_markdown` / `fit` for comments within a size budget. `tenancy preview` does the git and
rendering work and hands the results here.

May import `kube` and `analysis.reachability`.
"""

from .markdown import BUDGET, ReviewSection, StaticSection, failure_section, fit, render_markdown, size
from .summary import Review, headline, render_json, render_text, review_clusters
from .warnings import CLUSTER_POLICY, CROSS_TENANT, DATA_LOSS, DATABASE, EXTERNAL, KINDS, ReviewWarning

__all__ = [
    "BUDGET", "CLUSTER_POLICY", "CROSS_TENANT", "DATABASE", "DATA_LOSS", "EXTERNAL", "KINDS", "Review",
    "ReviewSection", "ReviewWarning", "StaticSection", "failure_section", "fit", "headline", "render_json",
    "render_markdown", "render_text", "review_clusters", "size",
]
