"""`agatha policy check` and `agatha policy docs` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agatha.cli import cli
from agatha.plan import mock_runtime
from agatha.plan.graph import ResourceGraph
from policies.examples.insecure import program
from tests.policies.cases_edge_network import vpc


def _fake_stack(monkeypatch: pytest.MonkeyPatch, fn: Any) -> None:
    def evaluate(stack: str, **_: Any) -> ResourceGraph:
        return mock_runtime.evaluate_program(fn, stack=stack)

    monkeypatch.setattr(mock_runtime, "evaluate_stack", evaluate)


def test_check_exits_1_on_mandatory_violation_and_writes_sarif(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_stack(monkeypatch, program)
    out = tmp_path / "policy.sarif"
    result = CliRunner().invoke(
        cli, ["policy", "check", "--stack", "dev", "--format", "sarif", "--output", str(out)]
    )
    assert result.exit_code == 1
    assert json.loads(out.read_text())["version"] == "2.1.0"


def test_check_exits_0_when_only_advisories(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_stack(monkeypatch, vpc)
    result = CliRunner().invoke(cli, ["policy", "check", "--stack", "dev", "--no-production"])
    assert result.exit_code == 0, result.output
    assert "0 mandatory" in result.output


def test_docs_check_passes_on_committed_readme() -> None:
    result = CliRunner().invoke(cli, ["policy", "docs", "--check"])
    assert result.exit_code == 0, result.output
