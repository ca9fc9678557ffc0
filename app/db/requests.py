"""Hot-path queries on inference_requests (SQLAlchemy Core, never the ORM).

Every query is scoped by tenant; a row of another tenant is indistinguishable from a
missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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


def _insert(engine: AsyncEngine) -> Any:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(requests_table)


async def insert_pending(engine: AsyncEngine, new: NewRequest) -> dict[str, Any] | None:
    """Insert the row; None when the tenant already used ``idempotency_key``."""
    values = {
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
    statement = _insert(engine).values(**values)
    if new.idempotency_key is not None:
        statement = statement.on_conflict_do_nothing(
            index_elements=["tenant_id", "idempotency_key"]
        ).returning(requests_table.c.id)
    async with engine.begin() as conn:
        result = await conn.execute(statement)
        if new.idempotency_key is not None and result.first() is None:
            return None
    return values


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
