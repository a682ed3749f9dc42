"""The declared intent of a stack config as flows, to compare with what the rendered policies actually allow.

No Pulumi, no engine import: intent is derived from the config alone, so an engine finding is a real check of
the policies, not of itself.
"""

from intent.flows import declared_flows, program_namespaces, probe_addresses

__all__ = ["declared_flows", "probe_addresses", "program_namespaces"]
