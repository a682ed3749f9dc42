"""The `tenancy:*` values of the running Pulumi stack, as the Pulumi engine hands them to a program or policy pack.

The one module of `stackconfig` that reads Pulumi's runtime: the program (`program.py`) and the CrossGuard pack
(`guardrails/`) both call `config_values`, so the pack judges a stack by exactly the config the program deployed.
"""

from __future__ import annotations

from typing import Any

from stackconfig.load import NAMESPACE, decode_config_value


def config_values() -> dict[str, Any]:
    """Every `tenancy:*` config value of the running stack, decoded (Pulumi hands structured values as JSON).

    Read from the runtime's whole config map rather than key by key, so a misspelt key is reported instead of
    silently ignored."""
    # Imported here so that importing stackconfig never loads Pulumi's runtime (check, diff and the engine's
    # users do not need it).
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE:
            continue
        values[name] = decode_config_value(value)
    return values
