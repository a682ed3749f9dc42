"""The Pulumi program: stack config -> validated model -> Platform, Tenant and ThreeTierApp components.

`__main__.py` (what `pulumi up` runs) and the offline render (`python -m tenancy render`) both call `main()`, so
what is reviewed offline is what the engine deploys.
"""

from __future__ import annotations

import pulumi

from components import ClusterPolicies, Platform, Tenant, ThreeTierApp
from stackconfig import ConfigError, ParsedConfig, StackConfig, parse_config
from stackconfig.cni import NO_ADMIN_POLICIES
from stackconfig.pulumi_values import config_values


def load_config() -> ParsedConfig:
    return parse_config(config_values())


def build(config: StackConfig) -> dict[str, Tenant]:
    Platform("platform", config.cluster, config.tenants)
    if config.cluster.admin_policy_api != NO_ADMIN_POLICIES:
        ClusterPolicies("cluster-policies", config)
    tenants = {t.name: Tenant(t.name, t, config.cluster) for t in config.tenants}
    for tenant in config.tenants:
        for app in tenant.apps:
            ThreeTierApp(f"{tenant.name}-{app.name}", tenant, app, config.cluster, tenants,
                         opts=pulumi.ResourceOptions(depends_on=[tenants[tenant.name]]))
    return tenants


def main() -> None:
    try:
        parsed = load_config()
    except ConfigError as exc:
        # RunError: Pulumi prints the message alone, without a Python traceback.
        raise pulumi.RunError("invalid stack config:\n  " + "\n  ".join(exc.problems)) from None
    for warning in parsed.warnings:
        pulumi.log.warn(warning)
    build(parsed.config)
    pulumi.export("tenants", [t.name for t in parsed.config.tenants])
