"""``agatha infer`` argument handling (no gateway needed)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from agatha.cli import cli
from agatha.client.cli import render


def test_infer_without_any_api_key_is_a_usage_error(tmp_path: Path) -> None:
    env = {"AGATHA_LOCAL_STATE_DIR": str(tmp_path), "AGATHA_API_KEY": ""}
    result = CliRunner().invoke(cli, ["infer", "hi"], env=env)
    assert result.exit_code == 2
    assert "no API key" in result.output


def test_infer_against_a_closed_port_fails_with_exit_one(tmp_path: Path) -> None:
    args = ["infer", "hi", "--url", "http://127.0.0.1:9", "--api-key", "agk_x"]
    result = CliRunner().invoke(cli, args, env={"AGATHA_LOCAL_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "cannot reach the gateway at http://127.0.0.1:9" in result.output


def test_infer_rejects_parameters_that_are_not_json(tmp_path: Path) -> None:
    args = ["infer", "hi", "--api-key", "agk_x", "--parameters", "{oops"]
    result = CliRunner().invoke(cli, args, env={"AGATHA_LOCAL_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "not JSON" in result.output


def test_text_output_is_the_response_alone_when_completed() -> None:
    assert render({"status": "completed", "response": "hello"}) == ["hello"]
    assert render({"status": "pending", "id": "req_1", "result": "u"}) == [
        "req_1 pending",
        "result: u",
    ]
