"""The reaper closes abandoned rows and leaves live ones alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.models import InferenceRequest, RequestStatus, Tenant
from app.worker.reaper import ReapPolicy, reap

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = ReapPolicy(
    max_receive_count=3, lease_grace=timedelta(minutes=10), pending_max_age=timedelta(days=4)
)


def _row(request_id: str, status: str, **values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": request_id,
        "tenant_id": "acme",
        "model": "local-echo",
        "prompt": "p",
        "parameters": {},
        "status": status,
        "created_at": NOW - timedelta(minutes=5),
        "updated_at": NOW,
        "attempts": 0,
        "lease_expires_at": None,
    }
    return base | values


async def test_reaper_closes_only_abandoned_rows(
    sqlite_url: str, migrated_db: Callable[[str], str]
) -> None:
    migrated_db(sqlite_url)
    engine = create_async_engine(sqlite_url)
    old_lease = NOW - timedelta(hours=1)
    rows = [
        _row("dead_last", "processing", attempts=3, lease_expires_at=old_lease),
        _row("dead_retryable", "processing", attempts=1, lease_expires_at=old_lease),
        _row("alive", "processing", attempts=3, lease_expires_at=NOW + timedelta(minutes=1)),
        _row("orphan", "pending", created_at=NOW - timedelta(days=5)),
        _row("backlog", "pending", created_at=NOW - timedelta(days=1)),
        _row("done", "completed", created_at=NOW - timedelta(days=9)),
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(Tenant).values(id="acme", name="Acme"))
        await conn.execute(insert(InferenceRequest), rows)

    result = await reap(engine, POLICY, now=NOW)

    table = InferenceRequest.__table__
    async with engine.connect() as conn:
        found = (await conn.execute(select(table.c.id, table.c.status, table.c.error_code))).all()
    await engine.dispose()
    status = {row.id: (row.status, row.error_code) for row in found}
    assert result.lease_expired == 1 and result.pending_expired == 1
    assert status["dead_last"] == (RequestStatus.FAILED, "lease_expired")
    assert status["orphan"] == (RequestStatus.EXPIRED, "expired")
    assert status["dead_retryable"][0] == RequestStatus.PROCESSING
    assert status["alive"][0] == RequestStatus.PROCESSING
    assert status["backlog"][0] == RequestStatus.PENDING
    assert status["done"][0] == RequestStatus.COMPLETED
