"""Shared fixtures for app tests (gateway and worker): moto, PostgreSQL, Redis, SQLite.

PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) are found or
started; when they cannot be reached the tests fail with a message saying how to start
them (never skipped: CI=true must exercise them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PG_HOST = "127.0.0.1"
PG_PORT = 5432
REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
REDIS_TEST_DB = 15


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _try_start_postgres() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if versions and shutil.which("pg_ctlcluster"):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
            check=False,
            capture_output=True,
            timeout=60,
        )


def _try_start_redis() -> None:
    if shutil.which("redis-server"):
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", REDIS_HOST, "--port", str(REDIS_PORT)],
            check=False,
            capture_output=True,
            timeout=30,
        )


def _wait_for_port(
    host: str, port: int, *, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None
) -> bool:
    """Whether ``port`` accepts connections within ``timeout`` (False at once if
    ``process``, the server being waited for, has exited)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_open(host, port):
            return True
        if process is not None and process.poll() is not None:
            return False
        time.sleep(0.1)  # polling a server start-up, bounded by ``timeout``
    return False


def require_service(name: str, host: str, port: int, start: Callable[[], None]) -> None:
    """Find or start a local service; fail (never skip) with instructions otherwise."""
    if _port_open(host, port):
        return
    start()
    if not _wait_for_port(host, port):
        pytest.fail(
            f"{name} is not reachable on {host}:{port} and could not be started; start it "
            f"(e.g. `pg_ctlcluster --skip-systemctl-redirect 15 main start` or "
            f"`redis-server --daemonize yes`) and re-run",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """URL of a moto server on 127.0.0.1 shared by the session."""
    from app.local_aws import start_moto_server

    url, server = start_moto_server()
    yield url
    server.stop()  # type: ignore[attr-defined]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> str:
    """Point boto3/aiobotocore (and Settings) at the moto server with dummy credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session (asyncpg URL), dropped at the end."""
    import psycopg

    require_service("PostgreSQL", PG_HOST, PG_PORT, _try_start_postgres)
    name = f"agatha_test_{uuid.uuid4().hex[:12]}"
    admin = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis database 15 on 127.0.0.1, flushed once at session start."""
    import redis

    require_service("Redis", REDIS_HOST, REDIS_PORT, _try_start_redis)
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_TEST_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An aiosqlite URL for a database file under the test's tmp_path."""
    return f"sqlite+aiosqlite:///{tmp_path / 'agatha.db'}"


def migrate(url: str) -> str:
    """Apply the Alembic migrations to ``url`` and return it."""
    from app.db.migrate import upgrade_to_head

    upgrade_to_head(url)
    return url


@pytest.fixture
def migrated_db() -> Callable[[str], str]:
    """``migrated_db(url)`` migrates the database at ``url`` to head and returns the URL."""
    return migrate


@pytest.fixture(scope="session")
def migrated_pg_url(pg_url: str) -> str:
    """The session's PostgreSQL database, migrated once."""
    return migrate(pg_url)
