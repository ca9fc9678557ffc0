"""Exit codes, dry-run and confirmation of the `agatha` ops commands (click's test runner)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from agatha.cli import cli
from tests.runbooks.opskit import Platform, secret_value


def _project(tmp_path: Path, *, production: bool) -> None:
    value = "true" if production else "false"
    (tmp_path / "Pulumi.dev.yaml").write_text(f"config:\n  agatha:production: {value}\n")


def test_missing_stack_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["failover", "database"])
    assert result.exit_code == 2
    assert "--stack" in result.output


def test_missing_ssm_parameter_exits_1_with_the_fix(aws_env: str) -> None:
    result = CliRunner().invoke(cli, ["queue", "inspect", "--stack", "ghost"])
    assert result.exit_code == 1
    assert "/agatha/ghost/queue-url" in result.output and "pulumi up -s ghost" in result.output


def test_dry_run_prints_steps_and_changes_nothing(
    aws_env: str, platform: Platform, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "rotate",
            "provider-key",
            "--stack",
            "dev",
            "--provider",
            "openai",
            "--dry-run",
            "--output",
            "json",
        ],
        input="sk-new\n",
    )
    assert result.exit_code == 0, result.output
    assert "DRY RUN [1/2] stage" in result.stderr
    assert json.loads(result.stdout)["dry_run"] is True
    assert secret_value(platform["secret-arn-openai"]) == "old-openai-key"


def test_production_stack_asks_and_default_no_changes_nothing(
    aws_env: str, platform: Platform, tmp_path: Path
) -> None:
    _project(tmp_path, production=True)
    result = CliRunner().invoke(cli, ["failover", "database", "--stack", "dev"], input="\n")
    assert result.exit_code == 1
    assert "PRODUCTION stack 'dev'" in result.stderr and "agatha-dev-db" in result.stderr
    assert "not confirmed" in result.stderr
    audit = (tmp_path / "audit.log").read_text().splitlines()
    assert json.loads(audit[-1])["result"] == "aborted"


def test_yes_skips_the_question_and_the_action_is_audited(
    aws_env: str, platform: Platform, tmp_path: Path
) -> None:
    _project(tmp_path, production=True)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "failover",
            "database",
            "--stack",
            "dev",
            "--yes",
            "--target",
            "agatha-dev-db-1",
            "--output",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["writer"] == "agatha-dev-db-1"
    shown = runner.invoke(cli, ["audit", "--output", "json", "--stack", "dev"])
    entry = json.loads(shown.stdout)["entries"][-1]
    assert entry["what"] == "failover database" and entry["result"] == "ok"
    assert entry["who"]["iam"].startswith("arn:aws:")


def test_provider_key_value_is_never_an_argument(aws_env: str, platform: Platform) -> None:
    result = CliRunner().invoke(
        cli, ["rotate", "provider-key", "--stack", "dev", "--provider", "openai", "sk-new"]
    )
    assert result.exit_code == 2


def test_non_production_stack_needs_no_confirmation_and_renders_a_table(
    aws_env: str, platform: Platform, tmp_path: Path
) -> None:
    _project(tmp_path, production=False)
    key_file = tmp_path / "key"
    key_file.write_text("sg-new\n")
    result = CliRunner().invoke(
        cli,
        [
            "rotate",
            "provider-key",
            "--stack",
            "dev",
            "--provider",
            "sendgrid",
            "--from-file",
            str(key_file),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "promote" in result.stdout
    assert secret_value(platform["secret-arn-sendgrid"]) == "sg-new"
