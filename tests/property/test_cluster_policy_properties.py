"""For any valid stack config, the cluster policies are accepted by their CRDs and keep to the tier design."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from kube import customresources
from policies import cluster_policies
from stackconfig import parse_config
from stackconfig.strategies import stack_config


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_config())
def test_cluster_policies_are_valid_and_bounded(raw: dict) -> None:
    config = parse_config(raw).config
    objects = cluster_policies(config)
    api = config.cluster.admin_policy_api
    assert (objects == []) == (api == "none")
    names = [o["metadata"]["name"] for o in objects]
    assert len(names) == len(set(names))
    for obj in objects:
        assert customresources.problems(obj, customresources.STANDARD) == [], obj["metadata"]["name"]
    if api == "ClusterNetworkPolicy":
        tiers = {(o["spec"]["tier"], o["spec"]["priority"]) for o in objects}
        assert tiers <= {("Admin", 100), ("Admin", 105), ("Admin", 110), ("Baseline", 100)}
        # Admin-tier Accept would bypass the namespace policies; the design only Passes or Denies there.
        assert all(r["action"] != "Accept" for o in objects if o["spec"]["tier"] == "Admin"
                   for r in o["spec"].get("ingress", []) + o["spec"].get("egress", []))
        boundaries = [o for o in objects if o["metadata"]["name"].startswith("tenancy-boundary.")]
        assert sorted(o["metadata"]["name"] for o in boundaries) == sorted(
            f"tenancy-boundary.{t.name}" for t in config.tenants)
