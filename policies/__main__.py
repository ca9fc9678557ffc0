"""CrossGuard entry point: assemble the PolicyPack (this starts the analyzer server)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.pack import PACK_NAME, build_policies
from policies.registry import ALL_RULES

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=build_policies(ALL_RULES),
)
