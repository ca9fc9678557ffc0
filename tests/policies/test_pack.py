"""The CrossGuard adapter: twin policies per level, violations routed, undecidable reported."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.policy import _NotApplicableError

from policies.offline import engine_props
from policies.pack import build_policies
from policies.registry import ALL_RULES, rules_by_id


def _policy(name: str) -> ResourceValidationPolicy:
    (found,) = [p for p in build_policies(ALL_RULES) if p.name == name]
    assert isinstance(found, ResourceValidationPolicy)
    return found


def _args(props: Mapping[str, Any], type_token: str) -> ResourceValidationArgs:
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions

    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    return ResourceValidationArgs(
        type_token, engine_props(props, type_token), "urn:x", "db", opts, None
    )


def _collect(into: list[str]) -> Callable[[str, str | None], None]:
    def report(message: str, urn: str | None = None) -> None:
        into.append(message)

    return report


def test_policy_names_are_unique_and_twinned() -> None:
    policies = build_policies(ALL_RULES)
    names = [p.name for p in policies]
    assert len(names) == len(set(names))
    assert _policy("database-deletion-protection").enforcement_level is EnforcementLevel.MANDATORY
    assert (
        _policy("database-deletion-protection-advisory").enforcement_level
        is EnforcementLevel.ADVISORY
    )


@pytest.mark.parametrize(("production", "mandatory", "advisory"), [("true", 2, 0), ("false", 0, 2)])
def test_levels_follow_the_resource_production_tag(
    production: str, mandatory: int, advisory: int
) -> None:
    props = {"engine": "aurora-postgresql", "tags": {"production": production}}
    reported: dict[str, list[str]] = {"m": [], "a": []}
    _policy("database-deletion-protection").validate(
        _args(props, "aws:rds/cluster:Cluster"), _collect(reported["m"])
    )
    _policy("database-deletion-protection-advisory").validate(
        _args(props, "aws:rds/cluster:Cluster"), _collect(reported["a"])
    )
    assert (len(reported["m"]), len(reported["a"])) == (mandatory, advisory)
    assert all(m.startswith("[DATA-05]") for m in reported["m"] + reported["a"])


def test_unknown_value_is_reported_as_undecidable_not_applicable() -> None:
    props = {"containerDefinitions": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "family": "x"}
    with pytest.raises(_NotApplicableError) as raised:
        _policy("ecs-task-least-privilege").validate(
            _args(props, "aws:ecs/taskDefinition:TaskDefinition"), _collect([])
        )
    assert str(raised.value.reason).startswith("undecidable:")


def test_every_rule_has_an_engine_policy() -> None:
    names = {p.name for p in build_policies(ALL_RULES)}
    assert {r.name for r in rules_by_id().values()} <= names
