"""Async engine construction: DATABASE_URL locally, host + Secrets Manager in the cloud."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.lease import ConnectionLease
from app.errors import ConfigurationError
from app.settings import Settings


def resolve_database_url(settings: Settings) -> str:
    """The async SQLAlchemy URL to use (may read the RDS master secret once)."""
    if settings.database_url:
        return settings.database_url
    if settings.database_host:
        if not settings.database_secret_arn:
            raise ConfigurationError(
                "DATABASE_HOST is set without DATABASE_SECRET_ARN; set the secret ARN"
            )
        from app.aws import read_secret_json

        secret = read_secret_json(settings, settings.database_secret_arn)
        user, password = quote(str(secret["username"])), quote(str(secret["password"]), safe="")
        return (
            f"postgresql+asyncpg://{user}:{password}@{settings.database_host}:"
            f"{settings.database_port}/{settings.database_name}"
        )
    if not settings.is_development:
        raise ConfigurationError(
            f"no database configured in AGATHA_ENV={settings.agatha_env!r}; "
            "set DATABASE_HOST/DATABASE_SECRET_ARN (or DATABASE_URL)"
        )
    settings.local_data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{settings.local_data_dir / 'agatha.db'}"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL + busy timeout: several local processes (gateway, worker) share one file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# One gateway process serves ~32 requests at once (the benchmark's concurrency): keep
# that many connections open so a burst never opens and closes overflow connections per
# request (each connect costs a TCP + TLS attempt + auth handshake and ~1 ms of CPU).
# The pool fills lazily, so a quiet process holds only what it used.
POOL_SIZE = 32
MAX_OVERFLOW = 8
# Fail fast: a hot path must answer 503 within seconds, not hang on a dead server.
ASYNCPG_CONNECT_ARGS = {"timeout": 2, "command_timeout": 5}
POOL_TIMEOUT_SECONDS = 2.0


def create_engine_for(
    url: str, *, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
) -> AsyncEngine:
    """An async engine tuned for the gateway (pool sizes, SQLite pragmas)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        # "rollback" (the default) is free with asyncpg when no transaction is open, as
        # after the autocommit insert, and still cleans up after an aborted transaction.
        pool_reset_on_return="rollback",
        connect_args=dict(ASYNCPG_CONNECT_ARGS),
    )


def statement_lease_for(engine: AsyncEngine, *, size: int) -> ConnectionLease | None:
    """Bare asyncpg connections for one-statement hot paths (PostgreSQL only): the accept
    path's insert, the worker's grouped statements (app/worker/store.py)."""
    if engine.dialect.driver != "asyncpg":
        return None
    return ConnectionLease.for_engine(
        engine,
        size=size,
        connect_args=dict(ASYNCPG_CONNECT_ARGS),
        acquire_timeout=POOL_TIMEOUT_SECONDS,
    )
