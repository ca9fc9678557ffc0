"""The GitHub Actions workflows: parse, trigger as designed, use OIDC and real commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from agatha.cli import cli

WORKFLOWS = ("pull-request", "main", "production", "drift")


def _load(repo_root: Path, name: str) -> dict[str, Any]:
    data = yaml.safe_load((repo_root / ".github" / "workflows" / f"{name}.yml").read_text())
    assert isinstance(data, dict)
    # YAML 1.1 reads the bare key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _uses(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(workflow) if str(s.get("uses", "")).startswith(action + "@")]


@pytest.fixture(scope="module")
def workflows(repo_root: Path) -> dict[str, dict[str, Any]]:
    return {name: _load(repo_root, name) for name in WORKFLOWS}


def test_triggers(workflows: dict[str, dict[str, Any]]) -> None:
    assert "pull_request" in workflows["pull-request"]["on"]
    assert workflows["main"]["on"]["push"]["branches"] == ["main"]
    assert set(workflows["production"]["on"]) == {"push", "workflow_dispatch"}
    assert workflows["production"]["on"]["push"]["tags"] == ["v*"]
    assert "schedule" in workflows["drift"]["on"]


def test_production_deploys_only_behind_the_environment(workflows: dict[str, Any]) -> None:
    jobs = workflows["production"]["jobs"]
    ups = [j for j in jobs.values() for s in j["steps"] if s.get("with", {}).get("command") == "up"]
    assert ups and all(job.get("environment") == "production" for job in ups)
    (up,) = _uses(workflows["production"], "pulumi/actions")
    assert up["with"]["stack-name"] == "prod" and up["with"]["policyPacks"] == "policies"


def test_pull_requests_preview_both_stacks_with_the_policy_pack(workflows: dict[str, Any]) -> None:
    (preview,) = _uses(workflows["pull-request"], "pulumi/actions")
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["policyPacks"] == "policies"
    matrix = workflows["pull-request"]["jobs"]["preview"]["strategy"]["matrix"]["include"]
    assert {entry["stack"] for entry in matrix} == {"dev", "prod"}


def test_drift_check_expects_no_changes(workflows: dict[str, Any]) -> None:
    (preview,) = _uses(workflows["drift"], "pulumi/actions")
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["expect-no-changes"] is True


def test_sarif_goes_to_code_scanning(workflows: dict[str, Any]) -> None:
    (upload,) = _uses(workflows["pull-request"], "github/codeql-action/upload-sarif")
    assert upload["with"]["sarif_file"].endswith(".sarif")


@pytest.mark.parametrize("name", WORKFLOWS)
def test_cloud_access_is_oidc_only(workflows: dict[str, Any], name: str) -> None:
    workflow = workflows[name]
    text = yaml.safe_dump(workflow)
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for step in _uses(workflow, "aws-actions/configure-aws-credentials"):
        assert "role-to-assume" in step["with"]
    for job in workflow["jobs"].values():
        if any("configure-aws-credentials" in str(s.get("uses")) for s in job["steps"]):
            assert job["permissions"]["id-token"] == "write"


def _agatha_commands(workflow: dict[str, Any]) -> list[list[str]]:
    commands = []
    for step in _steps(workflow):
        for line in re.findall(r"\.venv/bin/agatha ([^\n|>\\]+)", str(step.get("run", ""))):
            commands.append(shlex.split(line))
    return commands


@pytest.mark.parametrize("name", WORKFLOWS)
def test_agatha_commands_in_workflows_exist(workflows: dict[str, Any], name: str) -> None:
    for argv in _agatha_commands(workflows[name]):
        context = click.Context(cli)
        command: click.Command | None = cli
        words = [w for w in argv if not w.startswith("-")][:2]
        for word in words:
            assert isinstance(command, click.Group), argv
            command = command.get_command(context, word)
            assert command is not None, f"`agatha {' '.join(argv)}`: no command {word!r}"
            if not isinstance(command, click.Group):
                break
        assert command is not None
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        assert {w.split("=")[0] for w in argv if w.startswith("--")} <= options, argv
