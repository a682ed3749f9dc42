"""Reviewing a change: two manifest sets compared by the engine (`diff`) and turned into what a reviewer acts on
(headline, warnings, PR comment).

Pure (no Pulumi, no git): `review_clusters(old, new, title)` -> `Review`; `headline`, `review_text`,
`review_json`; `review_markdown` / `fit` for comments within a size budget. `tenancy preview` does the git work
and the renders and hands the results here. ("Render" means only that here: manifests from a stack; text output
is formatted, by functions named after what they produce.)

May import `kube` and `analysis.reachability`.
"""

from .markdown import BUDGET, ReviewSection, StaticSection, failure_section, fit, review_markdown, size
from .summary import Review, headline, review_json, review_text, review_clusters
from .warnings import CLUSTER_POLICY, CROSS_TENANT, DATA_LOSS, DATABASE, EXTERNAL, KINDS, ReviewWarning

__all__ = [
    "BUDGET", "CLUSTER_POLICY", "CROSS_TENANT", "DATABASE", "DATA_LOSS", "EXTERNAL", "KINDS", "Review",
    "ReviewSection", "ReviewWarning", "StaticSection", "failure_section", "fit", "headline", "review_json",
    "review_markdown", "review_text", "review_clusters", "size",
]
