"""Hot-path queries on inference_requests (SQLAlchemy Core, never the ORM).

Every query is scoped by tenant; a row of another tenant is indistinguishable from a
missing one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.lease import ConnectionLease
from app.db.models import TERMINAL_STATUSES, InferenceRequest, RequestStatus

requests_table: sa.Table = InferenceRequest.__table__  # type: ignore[assignment]

PUBLIC_COLUMNS = (
    "id",
    "tenant_id",
    "model",
    "status",
    "request_hash",
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
    "provider",
    "response",
    "tokens_in",
    "tokens_out",
    "processing_ms",
    "error_code",
    "error_message",
)
_SELECT = sa.select(*(requests_table.c[name] for name in PUBLIC_COLUMNS))


@dataclass(frozen=True)
class NewRequest:
    """A validated request about to be stored as ``pending``."""

    id: str
    tenant_id: str
    api_key_id: str | None
    model: str
    prompt: str
    parameters: dict[str, Any]
    idempotency_key: str | None
    request_hash: str
    created_at: datetime


def utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _row(mapping: Any) -> dict[str, Any]:
    row = dict(mapping)
    for key in ("created_at", "updated_at", "started_at", "completed_at"):
        row[key] = utc(row[key])
    return row


# Built once: the accept path runs one constant statement, never a per-call construct.
# ON CONFLICT targets the idempotency constraint only: a NULL key never conflicts, so
# the statement is the same with or without a key, and RETURNING says who won.
_CONFLICT_TARGET = ["tenant_id", "idempotency_key"]
_PG_INSERT = (
    postgresql.insert(requests_table)
    .on_conflict_do_nothing(index_elements=_CONFLICT_TARGET)
    .returning(requests_table.c.id)
)
_SQLITE_INSERT = (
    sqlite.insert(requests_table)
    .on_conflict_do_nothing(index_elements=_CONFLICT_TARGET)
    .returning(requests_table.c.id)
)
# asyncpg runs this directly (one Bind/Execute round trip, its own statement cache);
# a bare asyncpg connection takes jsonb parameters as serialised text.
ASYNCPG_INSERT_SQL = (
    "INSERT INTO inference_requests (id, tenant_id, api_key_id, model, prompt, parameters,"
    " status, idempotency_key, request_hash, created_at, updated_at, attempts)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 0)"
    " ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id"
)


def _pending_values(new: NewRequest) -> dict[str, Any]:
    return {
        "id": new.id,
        "tenant_id": new.tenant_id,
        "api_key_id": new.api_key_id,
        "model": new.model,
        "prompt": new.prompt,
        "parameters": new.parameters,
        "status": RequestStatus.PENDING.value,
        "idempotency_key": new.idempotency_key,
        "request_hash": new.request_hash,
        "created_at": new.created_at,
        "updated_at": new.created_at,
        "attempts": 0,
    }


async def insert_pending(
    engine: AsyncEngine, new: NewRequest, *, lease: ConnectionLease | None = None
) -> dict[str, Any] | None:
    """Insert the row in autocommit; None when the tenant already used ``idempotency_key``.

    With a ``lease`` (PostgreSQL; the gateway's accept path) the statement runs on a bare
    asyncpg connection: one Bind/Execute round trip without SQLAlchemy's pool.
    """
    values = _pending_values(new)
    if lease is not None:
        inserted = await _insert_leased(lease, _asyncpg_args(new))
    else:
        inserted = await _insert_core(engine, values)
    return values if inserted else None


def _asyncpg_args(new: NewRequest) -> tuple[Any, ...]:
    return (
        new.id,
        new.tenant_id,
        new.api_key_id,
        new.model,
        new.prompt,
        json.dumps(new.parameters),
        RequestStatus.PENDING.value,
        new.idempotency_key,
        new.request_hash,
        new.created_at,
    )


async def _insert_leased(lease: ConnectionLease, args: tuple[Any, ...]) -> bool:
    try:
        async with lease.connection() as conn:
            inserted = await conn.fetchval(ASYNCPG_INSERT_SQL, *args)
    except (OSError, TimeoutError):
        raise
    except Exception as exc:
        raise _as_sqlalchemy_error(exc) from exc
    return inserted is not None


def _as_sqlalchemy_error(exc: Exception) -> sa_exc.DBAPIError:
    """Callers catch SQLAlchemy's errors: keep that contract for raw driver errors too."""
    import asyncpg

    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return sa_exc.IntegrityError(ASYNCPG_INSERT_SQL, None, exc)
    return sa_exc.OperationalError(ASYNCPG_INSERT_SQL, None, exc)


async def _insert_core(engine: AsyncEngine, values: dict[str, Any]) -> bool:
    statement = _PG_INSERT if engine.dialect.name == "postgresql" else _SQLITE_INSERT
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        result = await conn.execute(statement, values)
        return result.first() is not None


async def find_by_idempotency_key(
    engine: AsyncEngine, *, tenant_id: str, key: str
) -> dict[str, Any] | None:
    """The tenant's request stored under ``key``, if any."""
    query = _SELECT.where(
        requests_table.c.tenant_id == tenant_id, requests_table.c.idempotency_key == key
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return _row(row) if row else None


async def release_idempotency_key(engine: AsyncEngine, *, tenant_id: str, key: str) -> None:
    """Forget an expired idempotency key so a new request may use it."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.update(requests_table)
            .where(requests_table.c.tenant_id == tenant_id, requests_table.c.idempotency_key == key)
            .values(idempotency_key=None)
        )


async def get_for_tenant(
    engine: AsyncEngine, *, tenant_id: str, request_id: str
) -> dict[str, Any] | None:
    """One request of ``tenant_id``; None if missing or owned by another tenant."""
    query = _SELECT.where(
        requests_table.c.id == request_id, requests_table.c.tenant_id == tenant_id
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return _row(row) if row else None


async def mark_failed(
    conn_or_engine: AsyncEngine | AsyncConnection, *, request_id: str, code: str, message: str
) -> None:
    """Fail a still-pending request (used when the job could not be enqueued)."""
    now = datetime.now(UTC)
    statement = (
        sa.update(requests_table)
        .where(
            requests_table.c.id == request_id,
            requests_table.c.status == RequestStatus.PENDING.value,
        )
        .values(
            status=RequestStatus.FAILED.value,
            error_code=code,
            error_message=message,
            prompt=None,
            updated_at=now,
            completed_at=now,
        )
    )
    if isinstance(conn_or_engine, AsyncConnection):
        await conn_or_engine.execute(statement)
        return
    async with conn_or_engine.begin() as conn:
        await conn.execute(statement)


async def cancel(engine: AsyncEngine, *, tenant_id: str, request_id: str) -> dict[str, Any] | None:
    """Best-effort cancel: pending/processing -> cancelled. Returns the row after the attempt."""
    now = datetime.now(UTC)
    terminal = [status.value for status in TERMINAL_STATUSES]
    async with engine.begin() as conn:
        await conn.execute(
            sa.update(requests_table)
            .where(
                requests_table.c.id == request_id,
                requests_table.c.tenant_id == tenant_id,
                requests_table.c.status.not_in(terminal),
            )
            .values(
                status=RequestStatus.CANCELLED.value,
                prompt=None,
                updated_at=now,
                completed_at=now,
            )
        )
    return await get_for_tenant(engine, tenant_id=tenant_id, request_id=request_id)
