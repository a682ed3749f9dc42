"""What Pulumi runs for `pulumi preview --policy-pack guardrails`: build the pack, which then serves the engine.

Constructing a PolicyPack starts the analyzer server and blocks, so nothing else lives here; the policies are in
`guardrails.policies`, which tests import directly.
"""

import sys
from pathlib import Path

# The pack runs from its own directory; the repository's pure packages live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from guardrails.policies import PACK_NAME, POLICIES  # noqa: E402

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
