"""``agatha local down`` and ``status``: stop a serving platform, purge its folder, report."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agatha.local.errors import LocalPlatformError
from agatha.local.state import (
    DATABASE_FILE,
    DEMO_KEY_FILE,
    JWT_KEYS_FILE,
    RUN_FILE,
    RunRecord,
    read_run_record,
)

STOP_TIMEOUT_SECONDS = 40.0
READY_TIMEOUT_SECONDS = 2.0
OWN_FILES = frozenset({DATABASE_FILE, DEMO_KEY_FILE, JWT_KEYS_FILE, RUN_FILE})


def stop_platform(
    state_dir: Path,
    *,
    timeout: float = STOP_TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> RunRecord | None:
    """SIGTERM the platform serving from ``state_dir`` and wait for it; None if none ran."""
    record = read_run_record(state_dir)
    if record is None or not record.alive:
        (state_dir / RUN_FILE).unlink(missing_ok=True)  # stale: its process is gone
        return None
    os.kill(record.pid, signal.SIGTERM)
    deadline = clock() + timeout
    while record.alive:
        if clock() > deadline:
            raise LocalPlatformError(
                f"the platform (pid {record.pid}) did not stop within {timeout:g} s of SIGTERM; "
                f"stop it with `kill -9 {record.pid}`"
            )
        sleep(0.1)
    (state_dir / RUN_FILE).unlink(missing_ok=True)
    return record


def purge_targets(state_dir: Path) -> list[Path]:
    """What ``--purge`` deletes; refuses folders that do not look like ours."""
    if not state_dir.exists():
        return []
    if not state_dir.is_dir():
        raise LocalPlatformError(f"{state_dir} is not a folder; pass the local state folder")
    entries = sorted(state_dir.iterdir())
    if entries and not {e.name for e in entries} & OWN_FILES:
        raise LocalPlatformError(
            f"{state_dir} holds none of the local platform's files "
            f"({', '.join(sorted(OWN_FILES))}); refusing to delete it: check --state-dir"
        )
    return [state_dir]


def purge(state_dir: Path) -> None:
    """Delete the state folder (database, keys) after the platform stopped."""
    record = read_run_record(state_dir)
    if record is not None and record.alive:
        raise LocalPlatformError(
            f"the platform (pid {record.pid}) still runs; stop it first with `agatha local down`"
        )
    for target in purge_targets(state_dir):
        shutil.rmtree(target)


def platform_status(state_dir: Path) -> dict[str, Any]:
    """Whether a platform serves from ``state_dir``, where, and whether it is ready."""
    record = read_run_record(state_dir)
    running = record is not None and record.alive
    status: dict[str, Any] = {
        "stateDir": str(state_dir),
        "running": running,
        "database": str(state_dir / DATABASE_FILE)
        if (state_dir / DATABASE_FILE).exists()
        else None,
    }
    if record is None or not running:
        return status
    status |= {
        "pid": record.pid,
        "url": record.url,
        "docsUrl": record.docs_url,
        "awsEndpointUrl": record.aws_endpoint_url,
        "database": record.database,
        "demoKeyFile": record.demo_key_file,
        "startedAt": record.started_at,
        "ready": readiness(record.url),
    }
    return status


def readiness(url: str) -> dict[str, Any]:
    """The gateway's ``/readyz`` answer (or why there was none)."""
    import httpx

    try:
        response = httpx.get(f"{url}/readyz", timeout=READY_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return {"status": "unreachable", "error": str(exc) or type(exc).__name__}
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {"status": f"HTTP {response.status_code}"}
    return body


def render_status(status: dict[str, Any]) -> list[str]:
    """Human-readable lines of ``platform_status``."""
    if not status["running"]:
        lines = [f"Local platform: not running (state in {status['stateDir']})"]
        if status["database"]:
            lines.append(f"Database:       {status['database']} (kept until down --purge)")
        return lines
    ready = status["ready"]
    checks = ", ".join(f"{k} {'ok' if v else 'DOWN'}" for k, v in ready.get("checks", {}).items())
    return [
        f"Local platform: running (pid {status['pid']}, since {status['startedAt']})",
        f"Gateway:        {status['url']} ({ready.get('status')}{': ' + checks if checks else ''})",
        f"OpenAPI docs:   {status['docsUrl']}",
        f"AWS emulator:   {status['awsEndpointUrl'] or 'not used (real AWS)'}",
        f"Database:       {status['database']}",
        f"API key file:   {status['demoKeyFile']}",
    ]
