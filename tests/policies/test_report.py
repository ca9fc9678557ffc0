"""Reports: text grouped by severity, JSON, and SARIF 2.1.0."""

from __future__ import annotations

import json

import pytest

from policies.examples.insecure import program
from policies.offline import CheckResult
from policies.report import as_sarif, render, source_file
from tests.policies.helpers import run


@pytest.fixture(scope="module")
def result() -> CheckResult:
    return run(program)


def test_text_groups_by_severity_with_resource_and_fix(result: CheckResult) -> None:
    text = render(result, "text")
    assert text.index("CRITICAL (") < text.index("HIGH (") < text.index("MEDIUM (")
    assert "resource: ssh (aws:ec2/securityGroup:SecurityGroup)" in text
    assert "fix: Restrict the source" in text


def test_json_report_carries_exit_code_and_findings(result: CheckResult) -> None:
    data = json.loads(render(result, "json"))
    assert data["exitCode"] == 1
    assert {"NET-03", "DATA-09"} <= {f["ruleId"] for f in data["findings"]}


def test_sarif_is_2_1_0_with_described_rules(result: CheckResult) -> None:
    sarif = as_sarif(result)
    assert sarif["version"] == "2.1.0"
    run_ = sarif["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    for item in run_["results"]:
        assert rule_ids[item["ruleIndex"]] == item["ruleId"]
        assert item["level"] in ("error", "warning", "note")
        assert item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".py")


def test_component_resources_map_to_their_layer_file() -> None:
    urn = "urn:pulumi:prod::agatha::agatha:network:Network$aws:ec2/vpc:Vpc::agatha-prod-vpc"
    assert source_file(urn) == "components/network.py"
    assert source_file(None) == "__main__.py"
