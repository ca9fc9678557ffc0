"""Run ``agatha local up`` as a subprocess for tests: start, find its URL, stop, inspect."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from agatha.local.state import RunRecord, read_demo_key, read_run_record

START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0
# Variables that would switch a part away from the embedded defaults.
SWITCHES = ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL", "QUEUE_URL", "AGATHA_ENV")


def platform_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child platform: embedded defaults, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    return env | {"PYTHONUNBUFFERED": "1"} | (extra or {})


def up_command(state_dir: Path, *args: str) -> list[str]:
    """``agatha local up --port 0 --state-dir DIR ARGS`` through this interpreter."""
    code = "from agatha.cli import main; main()"
    return [
        sys.executable,
        "-c",
        code,
        "local",
        "up",
        "--port",
        "0",
        "--state-dir",
        str(state_dir),
        *args,
    ]


@dataclass
class Platform:
    """A serving child platform."""

    process: subprocess.Popen[bytes]
    record: RunRecord
    api_key: str
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (every thread's children file)."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in children.read_text().split()]
    return found


def accepts_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=1):
            return True
    except OSError:
        return False


def _wait_serving(process: subprocess.Popen[bytes], state_dir: Path, log: Path) -> RunRecord:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"local up exited {process.returncode}:\n{log.read_text()}")
        record = read_run_record(state_dir)
        if record is not None and "Serving" in log.read_text(encoding="utf-8", errors="replace"):
            return record
        time.sleep(0.2)
    raise AssertionError(f"local up did not serve within {START_TIMEOUT} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM and wait (bounded); kill only if the bound is exceeded, then fail loudly."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise AssertionError("local up ignored SIGTERM for 60 s") from None


@contextmanager
def serving(state_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Platform]:
    """A serving platform for the block; stopped (SIGTERM) afterwards whatever happens."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir.parent / f"{state_dir.name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            up_command(state_dir, *args),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=platform_env(env),
        )
    try:
        record = _wait_serving(process, state_dir, log)
        api_key = read_demo_key(state_dir)
        assert api_key is not None
        yield Platform(process=process, record=record, api_key=api_key, log=log)
    finally:
        stop(process)
