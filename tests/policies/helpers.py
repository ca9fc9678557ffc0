"""Shared helpers for policy tests: tags, JSON documents and running rules over a program."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from agatha.plan.mock_runtime import evaluate_program
from policies.offline import CheckResult, check_graph
from policies.registry import ALL_RULES, rules_by_id

PROD_TAGS = {
    "environment": "prod",
    "production": "true",
    "service": "agatha",
    "owner": "platform-team",
    "cost-center": "llm",
}
DEV_TAGS = {**PROD_TAGS, "environment": "dev", "production": "false"}
ACCOUNT = "123456789012"
Case = tuple[str, bool, Callable[[], object]]


def run(
    program: Callable[[], object], *rule_ids: str, production: bool | None = None
) -> CheckResult:
    """Evaluate ``program`` under mocks and run ``rule_ids`` (default: every rule)."""
    by_id = rules_by_id()
    rules = [by_id[i] for i in rule_ids] if rule_ids else list(ALL_RULES)

    def call() -> None:
        program()

    return check_graph(evaluate_program(call), rules, production=production)


def doc(*statements: Mapping[str, Any]) -> str:
    """An IAM-style policy document."""
    return json.dumps({"Version": "2012-10-17", "Statement": [dict(s) for s in statements]})


def deny_insecure(resource: str = "*") -> dict[str, Any]:
    """The TLS-only statement every resource policy carries."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": resource,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def assume(service: str) -> str:
    """A trust policy for one AWS service."""
    return doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})
