"""Typed stack configuration: the `tenancy:cluster` and `tenancy:tenants` keys of `Pulumi.<stack>.yaml`.

`parse_config(raw_cluster, raw_tenants)` returns a validated `StackConfig` or raises `ConfigError`, whose
`problems` are one line each, naming the config path (`tenancy:tenants[1].apps[0].database.port: ...`).
No Pulumi import: the Pulumi program, the offline render and `tenancy check` all share this.
"""

from stackconfig.errors import ConfigError
from stackconfig.load import (
    CLUSTER_KEY,
    TENANTS_KEY,
    ParsedConfig,
    StackFile,
    parse_config,
    read_stack_file,
)
from stackconfig.models import (
    App,
    Backend,
    ClusterConfig,
    Consumer,
    Database,
    Frontend,
    StackConfig,
    TenantConfig,
)

__all__ = [
    "App",
    "Backend",
    "CLUSTER_KEY",
    "ClusterConfig",
    "ConfigError",
    "Consumer",
    "Database",
    "Frontend",
    "StackConfig",
    "ParsedConfig",
    "StackFile",
    "TENANTS_KEY",
    "TenantConfig",
    "parse_config",
    "read_stack_file",
]
