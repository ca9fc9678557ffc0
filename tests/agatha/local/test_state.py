"""The local state folder: run record, owner-only files, project root."""

from __future__ import annotations

import os
from pathlib import Path

from agatha.local.state import (
    RunRecord,
    default_state_dir,
    process_boot_id,
    read_demo_key,
    read_run_record,
    remove_run_record,
    write_run_record,
    write_secret_file,
)


def _record(pid: int, boot_id: str) -> RunRecord:
    return RunRecord(
        pid=pid,
        url="http://127.0.0.1:1",
        docs_url="http://127.0.0.1:1/docs",
        aws_endpoint_url=None,
        demo_key_file="k",
        database="db",
        started_at="2026-01-01T00:00:00+00:00",
        boot_id=boot_id,
    )


def test_run_record_round_trips_and_knows_its_process_is_alive(tmp_path: Path) -> None:
    me = os.getpid()
    write_run_record(tmp_path, _record(me, process_boot_id(me) or ""))
    record = read_run_record(tmp_path)
    assert record is not None
    assert record.alive


def test_run_record_of_a_reused_pid_is_not_alive(tmp_path: Path) -> None:
    me = os.getpid()
    write_run_record(tmp_path, _record(me, f"{me}:0"))
    record = read_run_record(tmp_path)
    assert record is not None
    assert not record.alive


def test_remove_run_record_leaves_another_pids_record(tmp_path: Path) -> None:
    write_run_record(tmp_path, _record(12345, "x"))
    remove_run_record(tmp_path, pid=999)
    assert read_run_record(tmp_path) is not None
    remove_run_record(tmp_path, pid=12345)
    assert read_run_record(tmp_path) is None


def test_unreadable_run_record_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text("{not json")
    assert read_run_record(tmp_path) is None


def test_secret_files_are_owner_only(tmp_path: Path) -> None:
    write_secret_file(tmp_path / "demo-key", "agk_x\n")
    assert (tmp_path / "demo-key").stat().st_mode & 0o777 == 0o600
    assert read_demo_key(tmp_path) == "agk_x"


def test_state_dir_is_under_the_project_holding_pulumi_yaml(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert default_state_dir(nested) == tmp_path.resolve() / ".agatha" / "local"
