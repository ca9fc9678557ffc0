"""``agatha local down`` and ``status`` without a running platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from agatha.local.cli import local
from agatha.local.control import platform_status, purge, purge_targets, render_status
from agatha.local.errors import LocalPlatformError
from agatha.local.state import RunRecord, write_run_record


def test_purge_refuses_a_folder_without_platform_files(tmp_path: Path) -> None:
    (tmp_path / "important.txt").write_text("keep me")
    with pytest.raises(LocalPlatformError, match="refusing to delete"):
        purge_targets(tmp_path)
    assert (tmp_path / "important.txt").exists()


def test_purge_deletes_the_state_folder(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "agatha.db").write_text("")
    purge(state)
    assert not state.exists()


def test_down_removes_a_stale_record_and_says_nothing_runs(tmp_path: Path) -> None:
    record = RunRecord(1, "http://127.0.0.1:1", "d", None, "k", "db", "t", "1:0")
    write_run_record(tmp_path, record)
    result = CliRunner().invoke(local, ["down", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "nothing running" in result.output
    assert not (tmp_path / "run.json").exists()


def test_down_purge_dry_run_names_the_folder_and_deletes_nothing(tmp_path: Path) -> None:
    (tmp_path / "agatha.db").write_text("")
    result = CliRunner().invoke(
        local, ["down", "--purge", "--dry-run", "--state-dir", str(tmp_path)]
    )
    assert result.exit_code == 0
    assert f"would delete {tmp_path.resolve()}" in result.output
    assert (tmp_path / "agatha.db").exists()


def test_down_purge_asks_and_defaults_to_no(tmp_path: Path) -> None:
    (tmp_path / "agatha.db").write_text("")
    result = CliRunner().invoke(
        local, ["down", "--purge", "--state-dir", str(tmp_path)], input="\n"
    )
    assert result.exit_code == 1  # click's Abort
    assert (tmp_path / "agatha.db").exists()


def test_status_of_a_stopped_platform_mentions_the_kept_database(tmp_path: Path) -> None:
    (tmp_path / "agatha.db").write_text("")
    status = platform_status(tmp_path)
    assert status["running"] is False
    lines = render_status(status)
    assert lines[0].startswith("Local platform: not running")
    assert "kept until down --purge" in lines[1]
