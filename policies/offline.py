"""Run the pack's rules over an offline plan (``agatha.plan``'s ResourceGraph).

Each resource's inputs go through the same path the analyzer uses: a protobuf ``Struct``
(numbers become floats), ``pulumi_policy.deserialize.deserialize_properties`` and the
SDK's unknown-checking proxy, then into the SDK's own ``ResourceValidationArgs`` /
``StackValidationArgs`` / ``PolicyResource``. Required inputs missing from the recorded
graph were computed values the mocks could not resolve; they become the preview's
unknown sentinel, so rules answer "undecidable" exactly as they would under preview.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties, serialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from agatha.plan.graph import PlannedResource, ResourceGraph
from policies.framework import (
    PRODUCTION_CONFIG_KEY,
    Level,
    Reporter,
    Rule,
    production_from_tags,
    run_resource_check,
    run_stack_check,
)
from policies.taggable import required_inputs


class Outcome(StrEnum):
    """What one rule concluded about the whole stack."""

    PASS = "pass"
    VIOLATION = "violation"
    UNDECIDABLE = "undecidable"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Finding:
    """One reported violation or undecidable check, resolved to its level."""

    rule: Rule
    kind: str  # "violation" or "undecidable"
    level: Level
    message: str
    urn: str | None
    resource_name: str | None
    resource_type: str | None


@dataclass(frozen=True)
class RuleResult:
    """A rule's overall outcome and how many resources it looked at."""

    rule: Rule
    outcome: Outcome
    checked: int
    reason: str = ""


@dataclass
class CheckResult:
    """Everything one offline check produced."""

    stack: str
    production: bool
    findings: list[Finding] = field(default_factory=list)
    results: list[RuleResult] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "violation"]

    @property
    def mandatory_violations(self) -> list[Finding]:
        return [f for f in self.violations if f.level is Level.MANDATORY]

    @property
    def exit_code(self) -> int:
        """1 when a mandatory rule is violated, else 0."""
        return 1 if self.mandatory_violations else 0

    def rule_ids(self, *, kind: str = "violation") -> set[str]:
        """Ids of the rules with findings of ``kind``."""
        return {f.rule.id for f in self.findings if f.kind == kind}


def engine_props(inputs: Mapping[str, Any], type_token: str) -> Any:
    """Inputs shaped as the analyzer passes them: Struct round trip, sentinels, proxies."""
    struct = struct_pb2.Struct()
    json_format.ParseDict(serialize_properties(dict(inputs)), struct)
    props = deserialize_properties(json_format.MessageToDict(struct))
    for name in required_inputs(type_token):
        props.setdefault(name, UNKNOWN_STRING_VALUE)
    return unknown_checking_proxy(props)


def _options(resource: PlannedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        resource.protect,
        [],
        resource.delete_before_replace,
        list(resource.aliases),
        PolicyCustomTimeouts(0, 0, 0),
        [],
        resource.parent,
    )


def stack_resources(graph: ResourceGraph) -> list[PolicyResource]:
    """The graph's custom resources as the SDK's PolicyResource objects, linked up."""
    planned = [r for r in graph if r.custom]
    resources = {
        r.urn: PolicyResource(
            r.type, engine_props(r.inputs, r.type), r.urn, r.name, _options(r), None, None, [], {}
        )
        for r in planned
    }
    identities = {r.urn: _identity_values(r) for r in planned}
    for record in planned:
        resource = resources[record.urn]
        resource.parent = resources.get(record.parent or "")
        resource.dependencies.extend(resources[d] for d in record.depends_on if d in resources)
        resource.property_dependencies.update(_property_dependencies(record, identities, resources))
    return list(resources.values())


def _identity_values(resource: PlannedResource) -> set[str]:
    """The id and top-level string outputs another resource could have been given."""
    from agatha.plan.mock_values import resource_state

    resource_id, _ = resource_state(resource.type, resource.name, dict(resource.inputs), region="")
    return {resource_id} | {v for v in resource.outputs.values() if isinstance(v, str)}


def _property_dependencies(
    record: PlannedResource,
    identities: Mapping[str, set[str]],
    resources: Mapping[str, PolicyResource],
) -> dict[str, list[PolicyResource]]:
    """Per-property dependencies the recorder does not keep, recovered by matching values.

    The engine sends ``propertyDependencies``; the offline graph only has the union, so a
    property is tied to the dependencies whose id or output equals its value. Properties
    without a match keep falling back to the union in ``StackIndex.linked``.
    """
    found: dict[str, list[PolicyResource]] = {}
    for key, value in record.inputs.items():
        values = {str(v) for v in value} if isinstance(value, list) else {str(value)}
        matches = [
            resources[d]
            for d in record.depends_on
            if d in resources and values & identities.get(d, set())
        ]
        if matches:
            found[key] = matches
    return found


def stack_is_production(graph: ResourceGraph) -> bool:
    """Production when any resource is tagged production=true; fails closed when none say."""
    votes = [production_from_tags(r.inputs.get("tags")) for r in graph if r.custom]
    decided = [v for v in votes if v is not None]
    return any(decided) if decided else True


def check_graph(
    graph: ResourceGraph, rules: Iterable[Rule], *, production: bool | None = None
) -> CheckResult:
    """Run ``rules`` over ``graph``; ``production`` overrides the tag-based decision."""
    is_production = stack_is_production(graph) if production is None else production
    config = {PRODUCTION_CONFIG_KEY: is_production}
    resources = stack_resources(graph)
    result = CheckResult(stack=graph.stack, production=is_production)
    for rule_ in rules:
        if rule_.scope == "stack":
            reporters = [
                run_stack_check(
                    rule_, StackValidationArgs(resources, config), production=is_production
                )
            ]
            checked = sum(1 for r in resources if r.resource_type in rule_.resource_types)
        else:
            targets = [r for r in resources if rule_.applies_to(r.resource_type)]
            reporters = [
                run_resource_check(rule_, _resource_args(r, config), production=is_production)
                for r in targets
            ]
            checked = len(targets)
        _collect(result, rule_, reporters, checked, {r.urn: r for r in resources})
    return result


def _resource_args(resource: PolicyResource, config: Mapping[str, Any]) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource.resource_type,
        resource.props,
        resource.urn,
        resource.name,
        resource.opts,
        None,
        config,
    )


def _collect(
    result: CheckResult,
    rule_: Rule,
    reporters: list[Reporter],
    checked: int,
    by_urn: Mapping[str, PolicyResource],
) -> None:
    items = [item for reporter in reporters for item in reporter.items]
    for item in items:
        if item.kind == "not-applicable":
            continue
        target = by_urn.get(item.urn or "")
        result.findings.append(
            Finding(
                rule=rule_,
                kind=item.kind,
                level=rule_.level_for(item, production=result.production),
                message=item.message,
                urn=item.urn,
                resource_name=target.name if target else None,
                resource_type=target.resource_type if target else None,
            )
        )
    kinds = {item.kind for item in items}
    reasons = "; ".join(i.message for i in items if i.kind == "not-applicable")
    if "violation" in kinds:
        outcome = Outcome.VIOLATION
    elif "undecidable" in kinds:
        outcome = Outcome.UNDECIDABLE
    elif checked == 0 or "not-applicable" in kinds:
        outcome = Outcome.NOT_APPLICABLE
    else:
        outcome = Outcome.PASS
    result.results.append(RuleResult(rule_, outcome, checked, reasons))


def severity_rank(severity: Severity) -> int:
    """Sort key: critical first."""
    return ["critical", "high", "medium", "low"].index(severity.value)
