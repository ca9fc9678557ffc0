"""Adapt the rules to CrossGuard policies for `pulumi preview --policy-pack policies`.

The engine fixes one enforcement level per policy, but our strict rules are mandatory
only in production. So a rule that can yield both levels becomes two policies: ``<name>``
(mandatory findings) and ``<name>-advisory`` (findings that are advisory in this stack).
Undecidable checks (values unknown at preview) are reported through the SDK's
``not_applicable`` with an "undecidable:" reason, never as a pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.framework import (
    PRODUCTION_CONFIG_KEY,
    Enforcement,
    Level,
    Reporter,
    Rule,
    production_from_tags,
    resolve_production,
    run_resource_check,
    run_stack_check,
)
from policies.props import get

PACK_NAME = "agatha-security"
CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        PRODUCTION_CONFIG_KEY: {
            "type": "boolean",
            "description": "Force production (strict) or non-production enforcement for this rule.",
        }
    }
)


def policy_name(rule_: Rule, level: Level) -> str:
    """The engine name of a rule's policy at ``level``."""
    if level is Level.ADVISORY and rule_.enforcement is not Enforcement.ADVISORY:
        return f"{rule_.name}-advisory"
    return rule_.name


def _levels(rule_: Rule) -> tuple[Level, ...]:
    if rule_.enforcement is Enforcement.ADVISORY:
        return (Level.ADVISORY,)
    return (Level.MANDATORY, Level.ADVISORY)


def _deliver(
    rule_: Rule, level: Level, reporter: Reporter, report_violation: ReportViolation
) -> list[str]:
    for item in reporter.of_kind("violation"):
        if rule_.level_for(item, production=reporter.production) is level:
            report_violation(f"[{rule_.id}] {item.message}. Fix: {rule_.remediation}", item.urn)
    return [i.message for i in reporter.of_kind("undecidable")]


def _validate_resource(
    rule_: Rule, level: Level, args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if not rule_.applies_to(args.resource_type):
        return
    production = resolve_production(
        args.get_config(), [production_from_tags(get(args.props, "tags"))]
    )
    reporter = run_resource_check(rule_, args, production=production)
    undecidable = _deliver(rule_, level, reporter, report_violation)
    if undecidable and level is _levels(rule_)[0]:
        args.not_applicable(f"undecidable: {'; '.join(undecidable)}")


def _stack_votes(resources: Iterable[PolicyResource]) -> list[bool | None]:
    return [production_from_tags(get(r.props, "tags")) for r in resources]


def _validate_stack(
    rule_: Rule, level: Level, args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    production = resolve_production(args.get_config(), _stack_votes(args.resources))
    reporter = run_stack_check(rule_, args, production=production)
    undecidable = _deliver(rule_, level, reporter, report_violation)
    if undecidable and level is _levels(rule_)[0]:
        args.not_applicable(f"undecidable: {'; '.join(undecidable)}")


def _policy(rule_: Rule, level: Level) -> Policy:
    common: dict[str, Any] = {
        "name": policy_name(rule_, level),
        "description": f"[{rule_.id}] {rule_.description}",
        "enforcement_level": EnforcementLevel(level.value),
        "config_schema": CONFIG_SCHEMA,
        "severity": rule_.severity,
        "remediation_steps": rule_.remediation,
        "tags": [rule_.id, *rule_.references],
    }
    if rule_.scope == "stack":
        return StackValidationPolicy(validate=partial(_validate_stack, rule_, level), **common)
    return ResourceValidationPolicy(validate=partial(_validate_resource, rule_, level), **common)


def build_policies(rules: Iterable[Rule]) -> list[Policy]:
    """CrossGuard policies for ``rules`` (one or two per rule, see the module docstring)."""
    return [_policy(rule_, level) for rule_ in rules for level in _levels(rule_)]
