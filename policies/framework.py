"""The rule model shared by the CrossGuard adapter and the offline runner.

A rule is one validator function plus its metadata. Validators report through a
``Reporter`` that knows three outcomes besides "compliant": a violation, a violation
that only matters in production (``production_only``), and *undecidable* (a value the
rule needs is unknown during preview). Undecidable is never turned into a pass or fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from policies.errors import RuleDefinitionError

ID_PATTERN = re.compile(r"^(EDGE|NET|CMP|DATA|OBS|GOV)-\d{2}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


class Enforcement(StrEnum):
    """How a rule's violations are enforced."""

    MANDATORY = "mandatory"  # blocks every stack
    PRODUCTION = "production"  # blocks production stacks, advisory elsewhere
    ADVISORY = "advisory"  # never blocks


class Level(StrEnum):
    """The enforcement level a single finding ends up with."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"


@dataclass(frozen=True)
class Item:
    """One thing a validator reported."""

    kind: Literal["violation", "undecidable", "not-applicable"]
    message: str
    urn: str | None
    production_only: bool = False


@dataclass
class Reporter:
    """Collects what a validator reports; ``production`` says which rules are strict."""

    production: bool
    default_urn: str | None = None
    items: list[Item] = field(default_factory=list)

    def violation(
        self, message: str, urn: str | None = None, *, production_only: bool = False
    ) -> None:
        """Report a violation; ``production_only`` ones are advisory outside production."""
        self.items.append(Item("violation", message, urn or self.default_urn, production_only))

    def undecidable(self, reason: str, urn: str | None = None) -> None:
        """Report that a value needed for the decision is unknown (preview)."""
        self.items.append(Item("undecidable", reason, urn or self.default_urn))

    def not_applicable(self, reason: str) -> None:
        """Report that the rule has nothing to check in this stack."""
        self.items.append(Item("not-applicable", reason, None))

    @contextmanager
    def deciding(self, urn: str | None) -> Iterator[None]:
        """Turn an unknown value met inside the block into an undecidable result for ``urn``."""
        try:
            yield
        except UnknownValueError as exc:
            self.undecidable(exc.message, urn)

    def of_kind(self, kind: str) -> list[Item]:
        """Items of one kind, in report order."""
        return [item for item in self.items if item.kind == kind]


ResourceCheck = Callable[[ResourceValidationArgs, Reporter], None]
StackCheck = Callable[[StackValidationArgs, Reporter], None]


@dataclass(frozen=True)
class Rule:
    """A policy rule: stable id, metadata for docs/reports and its validator."""

    id: str
    name: str
    description: str
    rationale: str
    severity: Severity
    enforcement: Enforcement
    remediation: str
    references: tuple[str, ...]
    resource_types: tuple[str, ...]
    scope: Literal["resource", "stack"]
    check: Callable[..., None]

    def level_for(self, item: Item, *, production: bool) -> Level:
        """The enforcement level of one reported violation."""
        if self.enforcement is Enforcement.ADVISORY:
            return Level.ADVISORY
        if self.enforcement is Enforcement.PRODUCTION or item.production_only:
            return Level.MANDATORY if production else Level.ADVISORY
        return Level.MANDATORY

    def applies_to(self, resource_type: str) -> bool:
        """Whether a resource-scoped rule validates resources of ``resource_type``."""
        return "*" in self.resource_types or resource_type in self.resource_types


def rule(
    *,
    id: str,
    name: str,
    description: str,
    rationale: str,
    severity: Severity,
    enforcement: Enforcement,
    remediation: str,
    references: tuple[str, ...],
    resource_types: tuple[str, ...],
    scope: Literal["resource", "stack"] = "resource",
) -> Callable[[Callable[..., None]], Rule]:
    """Decorator turning a validator function into a ``Rule``."""
    if not ID_PATTERN.match(id):
        raise RuleDefinitionError(
            f"rule id {id!r} must look like NET-01 (layer prefix, two digits)"
        )
    if not NAME_PATTERN.match(name):
        raise RuleDefinitionError(f"rule {id} name {name!r} must be kebab-case")
    if not resource_types:
        raise RuleDefinitionError(f"rule {id} must name the resource types it checks")

    def wrap(check: Callable[..., None]) -> Rule:
        return Rule(
            id=id,
            name=name,
            description=description,
            rationale=rationale,
            severity=severity,
            enforcement=enforcement,
            remediation=remediation,
            references=references,
            resource_types=resource_types,
            scope=scope,
            check=check,
        )

    return wrap


PRODUCTION_CONFIG_KEY = "production"
PRODUCTION_TAG = "production"
# The stack setting the pack falls back to under the real engine (it passes the stack's
# config to the policy pack process); a setting, never a stack name.
PRODUCTION_STACK_SETTING = "agatha:production"


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def production_from_tags(tags: Any) -> bool | None:
    """The ``production`` tag of one resource, or None when absent or unknown."""
    if not isinstance(tags, Mapping):
        return None
    try:
        return _as_bool(tags.get(PRODUCTION_TAG))
    except UnknownValueError:
        return None


def _production_from_stack_setting() -> bool | None:
    import pulumi

    try:
        return _as_bool(pulumi.runtime.get_config(PRODUCTION_STACK_SETTING))
    except Exception:  # noqa: BLE001 - no runtime configured outside the engine
        return None


def resolve_production(config: Mapping[str, Any], tag_votes: list[bool | None]) -> bool:
    """Production or not: policy config, then resources' tags, then the stack setting.

    Fails closed (production) when nothing decides, so strict rules are never silently
    downgraded.
    """
    configured = _as_bool(config.get(PRODUCTION_CONFIG_KEY))
    if configured is not None:
        return configured
    votes = [vote for vote in tag_votes if vote is not None]
    if votes:
        return any(votes)
    setting = _production_from_stack_setting()
    return True if setting is None else setting


def run_resource_check(rule_: Rule, args: ResourceValidationArgs, *, production: bool) -> Reporter:
    """Run a resource rule; an unknown value becomes an undecidable item, never a pass."""
    reporter = Reporter(production=production, default_urn=args.urn)
    with reporter.deciding(args.urn):
        rule_.check(args, reporter)
    return reporter


def run_stack_check(rule_: Rule, args: StackValidationArgs, *, production: bool) -> Reporter:
    """Run a stack rule with the same unknown-value handling."""
    reporter = Reporter(production=production)
    with reporter.deciding(None):
        rule_.check(args, reporter)
    return reporter
