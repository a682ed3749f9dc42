"""What Pulumi runs for `pulumi preview --policy-pack guardrails`: build the pack, which then serves the engine.

Constructing a PolicyPack starts the analyzer server and blocks, so nothing else lives here; the policies are in
`guardrails.pack`, which tests import directly.
"""

# The pack runs in the repository's venv (PulumiPolicy.yaml: ../venv), where `pip install -e .` has installed
# the project, so its packages import without any path set-up. The policies module is called `pack`, not
# `policies`: the pack's directory comes first on sys.path and would shadow the program's `policies` package.
from pulumi_policy import EnforcementLevel, PolicyPack

from guardrails.pack import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
