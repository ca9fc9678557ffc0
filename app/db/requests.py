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

from app.batching import GroupCommit
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
# The same for many rows: one array per column, in ``_asyncpg_args`` order.
ASYNCPG_INSERT_MANY_SQL = (
    "INSERT INTO inference_requests (id, tenant_id, api_key_id, model, prompt, parameters,"
    " status, idempotency_key, request_hash, created_at, updated_at, attempts)"
    " SELECT id, tenant_id, api_key_id, model, prompt, parameters::json, status,"
    " idempotency_key, request_hash, created_at, created_at, 0"
    " FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::text[],"
    " $6::text[], $7::varchar[], $8::varchar[], $9::varchar[], $10::timestamptz[])"
    " AS t(id, tenant_id, api_key_id, model, prompt, parameters, status, idempotency_key,"
    " request_hash, created_at)"
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
    engine: AsyncEngine, new: NewRequest, *, inserts: PendingInserts | None = None
) -> dict[str, Any] | None:
    """Insert the row in autocommit; None when the tenant already used ``idempotency_key``.

    With ``inserts`` (PostgreSQL; the gateway's accept path) the row goes through bare
    asyncpg connections, grouped with concurrent inserts (``PendingInserts``).
    """
    values = _pending_values(new)
    if inserts is not None:
        try:
            inserted = await inserts.insert(_asyncpg_args(new))
        except (OSError, TimeoutError):
            raise
        except Exception as exc:
            raise _as_sqlalchemy_error(exc) from exc
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


class PendingInserts:
    """The accept path's inserts: concurrent ones share one statement on a leased connection.

    A lone insert runs ``ASYNCPG_INSERT_SQL`` (one Bind/Execute round trip, no SQLAlchemy
    pool); inserts made while another is in flight leave together as one
    ``ASYNCPG_INSERT_MANY_SQL`` (``app.batching.GroupCommit``): per request, the socket
    write and read were most of the insert's CPU. Each row keeps its own answer: inserted,
    or not because its tenant already used its idempotency key (two rows with one key in
    a group behave as in sequence: the first wins). If a group fails on a row's data (a
    tenant deleted meanwhile), its rows are retried one by one so only that row fails.
    """

    def __init__(self, lease: ConnectionLease, *, max_batch: int = 64) -> None:
        self._lease = lease
        self._group: GroupCommit[tuple[Any, ...], bool] = GroupCommit(
            self._insert_rows, max_batch=max_batch, max_inflight=2
        )

    async def insert(self, args: tuple[Any, ...]) -> bool:
        """Insert one row (``_asyncpg_args`` order); False when its idempotency key was taken."""
        return await self._group.submit(args)

    async def close(self) -> None:
        await self._lease.close()

    async def _insert_rows(self, rows: list[tuple[Any, ...]]) -> list[bool | BaseException]:
        import asyncpg

        if len(rows) == 1:
            return [await self._insert_one(rows[0])]
        columns = list(zip(*rows, strict=True))
        try:
            async with self._lease.connection() as conn:
                inserted = {r[0] for r in await conn.fetch(ASYNCPG_INSERT_MANY_SQL, *columns)}
        except asyncpg.IntegrityConstraintViolationError:
            return [await self._one_or_error(row) for row in rows]
        return [row[0] in inserted for row in rows]

    async def _insert_one(self, row: tuple[Any, ...]) -> bool:
        async with self._lease.connection() as conn:
            return await conn.fetchval(ASYNCPG_INSERT_SQL, *row) is not None

    async def _one_or_error(self, row: tuple[Any, ...]) -> bool | BaseException:
        import asyncpg

        try:
            return await self._insert_one(row)
        except asyncpg.PostgresError as exc:
            return exc


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
