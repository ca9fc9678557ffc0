"""``agatha local up`` as a subprocess: the --once demo and the serving platform."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agatha.client import AgathaClient
from agatha.local.state import read_run_record
from tests.agatha.local.platform_proc import (
    accepts_connections,
    child_pids,
    platform_env,
    serving,
    stop,
    up_command,
)

pytestmark = pytest.mark.slow


def test_local_up_once_runs_the_demo_through_the_full_flow_and_exits_zero(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    done = subprocess.run(
        up_command(state, "--once"),
        capture_output=True,
        text=True,
        env=platform_env(),
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    url = next(line.split()[-1] for line in lines if line.startswith("Gateway:"))
    assert url.startswith("http://127.0.0.1:")
    assert f"OpenAPI docs:  {url}/docs" in lines
    assert f"curl -sS -X POST {url}/api/inference" in done.stdout
    assert f"$(cat {state / 'demo-key'})" in done.stdout
    assert any(line.startswith("Demo request:  202 pending req_") for line in lines)
    assert any(line.startswith("Demo result:   200 completed by local") for line in lines)
    assert "[local-echo]" in done.stdout
    # Nothing is left serving, and the state stays for the next run.
    assert read_run_record(state) is None
    assert not accepts_connections(url)
    assert (state / "agatha.db").exists()
    assert (state / "demo-key").stat().st_mode & 0o077 == 0


def test_serving_platform_answers_the_client_refuses_a_second_up_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    with serving(tmp_path / "state") as platform:
        record = platform.record
        assert record.alive
        assert child_pids(record.pid) == []  # one process: nothing to leave behind
        with AgathaClient(record.url, platform.api_key) as client:
            result = client.infer("three little words", model="local-echo", timeout=60)
        assert result.response.startswith("[local-echo] 3 words")
        assert result.tokens_in == 3
        second = subprocess.run(
            up_command(tmp_path / "state", "--once"),
            capture_output=True,
            text=True,
            env=platform_env(),
            timeout=120,
            check=False,
        )
        assert second.returncode == 1
        assert f"already runs at {record.url}" in second.stderr
        assert platform.process.poll() is None
        returncode = stop(platform.process)
        assert returncode == 0, platform.output
        assert "Stopped; state kept in" in platform.output
        assert not accepts_connections(record.url)
        assert record.aws_endpoint_url is not None
        assert not accepts_connections(record.aws_endpoint_url)
        assert not record.alive
        assert read_run_record(tmp_path / "state") is None


def test_once_without_worker_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        up_command(tmp_path / "state", "--once", "--no-worker"),
        capture_output=True,
        text=True,
        env=platform_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--once needs the worker" in done.stderr
