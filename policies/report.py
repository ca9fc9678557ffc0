"""Render a CheckResult: text grouped by severity, JSON, and SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import Severity

from policies.framework import SEVERITY_ORDER, Level, Rule
from policies.offline import CheckResult, Finding

FORMATS = ("text", "json", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {Level.MANDATORY: "error", Level.ADVISORY: "warning"}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}


def render(result: CheckResult, output_format: str) -> str:
    """The report in ``output_format`` (one of FORMATS)."""
    if output_format == "json":
        return json.dumps(as_json(result), indent=2)
    if output_format == "sarif":
        return json.dumps(as_sarif(result), indent=2)
    return as_text(result)


def _where(finding: Finding) -> str:
    if finding.resource_name:
        return f"{finding.resource_name} ({finding.resource_type})"
    return "stack"


def as_text(result: CheckResult) -> str:
    """Violations grouped by severity, each with its resource and remediation."""
    env = "production" if result.production else "non-production"
    lines = [f"Policy check of stack '{result.stack}' ({env})", ""]
    for severity in SEVERITY_ORDER:
        group = [f for f in result.violations if f.rule.severity is severity]
        if not group:
            continue
        lines.append(f"{severity.value.upper()} ({len(group)})")
        for finding in sorted(group, key=lambda f: (f.level.value != "mandatory", f.rule.id)):
            lines.append(
                f"  [{finding.level.value}] {finding.rule.id} {finding.rule.name}: "
                f"{finding.message}"
            )
            lines.append(f"      resource: {_where(finding)}")
            lines.append(f"      fix: {finding.rule.remediation}")
        lines.append("")
    undecidable = [f for f in result.findings if f.kind == "undecidable"]
    if undecidable:
        lines.append(f"UNDECIDABLE ({len(undecidable)}): values unknown until deployment")
        lines.extend(f"  {f.rule.id} {f.rule.name}: {_where(f)}: {f.message}" for f in undecidable)
        lines.append("")
    counts = {
        o: sum(1 for r in result.results if r.outcome.value == o)
        for o in ("pass", "violation", "undecidable", "not-applicable")
    }
    lines.append(
        f"{len(result.mandatory_violations)} mandatory and "
        f"{len(result.violations) - len(result.mandatory_violations)} advisory violation(s); "
        "rules: " + ", ".join(f"{n} {o}" for o, n in counts.items())
    )
    return "\n".join(lines)


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "ruleId": finding.rule.id,
        "rule": finding.rule.name,
        "kind": finding.kind,
        "severity": finding.rule.severity.value,
        "level": finding.level.value,
        "message": finding.message,
        "urn": finding.urn,
        "resource": finding.resource_name,
        "resourceType": finding.resource_type,
        "remediation": finding.rule.remediation,
    }


def as_json(result: CheckResult) -> dict[str, Any]:
    """The machine-readable report."""
    return {
        "stack": result.stack,
        "production": result.production,
        "exitCode": result.exit_code,
        "findings": [_finding_json(f) for f in result.findings],
        "rules": [
            {
                "id": r.rule.id,
                "name": r.rule.name,
                "outcome": r.outcome.value,
                "checked": r.checked,
                "reason": r.reason,
            }
            for r in result.results
        ],
    }


def source_file(urn: str | None) -> str:
    """The file that declares a resource: its component's layer module, else __main__.py."""
    if not urn or "::" not in urn:
        return "__main__.py"
    type_chain = urn.split("::")[2].split("$")
    for token in type_chain:
        parts = token.split(":")
        if len(parts) == 3 and parts[0] == "agatha":
            return f"components/{parts[1]}.py"
    return "__main__.py"


def _sarif_rule(rule_: Rule) -> dict[str, Any]:
    return {
        "id": rule_.id,
        "name": rule_.name,
        "shortDescription": {"text": rule_.description},
        "fullDescription": {"text": rule_.rationale},
        "help": {"text": rule_.remediation},
        "defaultConfiguration": {
            "level": "warning" if rule_.enforcement.value == "advisory" else "error"
        },
        "properties": {
            "tags": ["security", *rule_.references],
            "security-severity": SECURITY_SEVERITY[rule_.severity],
        },
    }


def _sarif_result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index[finding.rule.id],
        "level": SARIF_LEVEL[finding.level] if finding.kind == "violation" else "note",
        "message": {
            "text": f"{finding.message} ({_where(finding)}). Fix: {finding.rule.remediation}"
        },
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": source_file(finding.urn)}},
                "logicalLocations": [
                    {
                        "name": finding.resource_name or "stack",
                        "fullyQualifiedName": finding.urn or "",
                        "kind": "resource",
                    }
                ],
            }
        ],
        "properties": {"kind": finding.kind, "enforcement": finding.level.value},
    }


def as_sarif(result: CheckResult) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run, every rule described, one result per finding."""
    rules = [r.rule for r in result.results]
    rule_index = {r.id: i for i, r in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "agatha-policy",
                        "informationUri": "https://github.com/agatha-ai/platform/tree/main/policies",
                        "rules": [_sarif_rule(r) for r in rules],
                    }
                },
                "automationDetails": {"id": f"agatha-policy/{result.stack}/"},
                "results": [_sarif_result(f, rule_index) for f in result.findings],
            }
        ],
    }
