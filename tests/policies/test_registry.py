"""The registry: stable unique ids, kebab-case names, the whole catalogue, sound metadata."""

from __future__ import annotations

from policies.cloudflare_ranges import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6
from policies.framework import NAME_PATTERN, Enforcement
from policies.registry import ACCEPTED_DEV_ADVISORIES, ALL_RULES, rules_by_id

# The ids published in the catalogue (shared/POLICY-RULES.md); ids are never reused.
CATALOGUE_IDS = (
    [f"EDGE-0{i}" for i in range(1, 7)]
    + [f"NET-{i:02d}" for i in range(1, 11)]
    + [f"CMP-0{i}" for i in range(1, 10)]
    + [f"DATA-{i:02d}" for i in range(1, 14)]
    + [f"OBS-0{i}" for i in range(1, 5)]
    + [f"GOV-0{i}" for i in range(1, 4)]
)


def test_rule_ids_and_names_are_unique() -> None:
    assert len({r.id for r in ALL_RULES}) == len(ALL_RULES)
    assert len({r.name for r in ALL_RULES}) == len(ALL_RULES)


def test_rule_names_are_kebab_case() -> None:
    assert [r.name for r in ALL_RULES if not NAME_PATTERN.match(r.name)] == []


def test_pack_has_at_least_45_rules_and_every_catalogue_id() -> None:
    assert len(ALL_RULES) >= 45
    assert set(CATALOGUE_IDS) - set(rules_by_id()) == set()


def test_every_rule_is_documented() -> None:
    for r in ALL_RULES:
        assert r.description.endswith(".") and r.rationale and r.remediation, r.id
        assert r.description.count(". ") == 0, f"{r.id} description must be one sentence"


def test_critical_rules_always_block() -> None:
    assert [
        r.id
        for r in ALL_RULES
        if r.severity.value == "critical" and r.enforcement is not Enforcement.MANDATORY
    ] == []


def test_accepted_dev_advisories_name_real_rules() -> None:
    assert set(ACCEPTED_DEV_ADVISORIES) <= set(rules_by_id())


def test_cloudflare_snapshot_matches_offline_runtime() -> None:
    from agatha.plan.mock_values import CLOUDFLARE_IPV4 as MOCK_V4
    from agatha.plan.mock_values import CLOUDFLARE_IPV6 as MOCK_V6

    assert (list(CLOUDFLARE_IPV4), list(CLOUDFLARE_IPV6)) == (MOCK_V4, MOCK_V6)
