"""The worker's grouped statements run on leased bare asyncpg connections
(``app.db.lease``): a broken one is never handed out again.

They bypass SQLAlchemy entirely, so SQLAlchemy never sees their failures: a statement
cancelled mid-protocol (or a dropped socket) must drop the connection itself, or the next
job on it fails with "another operation is in progress".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.worker.store import HOT_CONNECTIONS, JobStore

SLEEP = "SELECT pg_sleep(5)"
ONE = "SELECT 1 AS one"
PID = "SELECT pg_backend_pid() AS pid"


@pytest.fixture
async def store(migrated_pg_url: str) -> AsyncIterator[JobStore]:
    engine = create_async_engine(migrated_pg_url, pool_size=1, max_overflow=0)
    job_store = JobStore(engine)
    try:
        yield job_store
    finally:
        await job_store.aclose()
        await engine.dispose()


async def pid(store: JobStore) -> int:
    return int((await store._fetch_sql(PID, []))[0]["pid"])


async def test_cancelled_statement_does_not_poison_the_next_one(store: JobStore) -> None:
    before = await pid(store)
    slow = asyncio.create_task(store._fetch_sql(SLEEP, []))
    await asyncio.sleep(0.3)  # the statement is on the wire, the protocol busy
    slow.cancel()
    await asyncio.gather(slow, return_exceptions=True)
    # The only idle connection was the busy one: handed out again, this would fail.
    rows = await asyncio.wait_for(store._fetch_sql(ONE, []), timeout=10)
    assert [tuple(r) for r in rows] == [(1,)]
    assert await pid(store) != before


async def test_server_error_keeps_the_connection(store: JobStore) -> None:
    before = await pid(store)
    failed = await asyncio.gather(store._fetch_sql("SELECT 1 / 0", []), return_exceptions=True)
    assert type(failed[0]).__name__ == "DivisionByZeroError"
    assert [tuple(r) for r in await store._fetch_sql(ONE, [])] == [(1,)]
    assert await pid(store) == before  # the same backend: nothing reconnected


async def test_connection_killed_by_the_server_is_replaced(
    store: JobStore, migrated_pg_url: str
) -> None:
    """What a database restart does to every connection, one backend at a time."""
    admin = await asyncpg.connect(migrated_pg_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        before = await pid(store)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", before)
        gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
        for _ in range(100):
            if not await admin.fetchval(gone, before):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # the socket's end reaches the idle connection
        # The idle connection is known closed: the next statement does not fail on it.
        rows = await store._fetch_sql(ONE, [])
        after = await pid(store)
    finally:
        await admin.close()
    assert [tuple(r) for r in rows] == [(1,)]
    assert after != before


@pytest.mark.parametrize(("pool_size", "most"), [(3, 3), (10, 6), (40, HOT_CONNECTIONS)])
async def test_statements_in_flight_at_once_open_at_most_the_hot_connections(
    migrated_pg_url: str, pool_size: int, most: int
) -> None:
    """More statements than connections wait for one instead of opening more; never more
    than the engine's pool size (the Lambda worker's is its batch size)."""
    engine = create_async_engine(migrated_pg_url, pool_size=pool_size)
    store = JobStore(engine)
    sql = "SELECT pg_backend_pid() AS pid, pg_sleep(0.1)"
    try:
        answers = await asyncio.gather(*(store._fetch_sql(sql, []) for _ in range(3 * most)))
    finally:
        await store.aclose()
        await engine.dispose()
    assert len({rows[0]["pid"] for rows in answers}) == most


async def test_closed_store_refuses_statements_and_keeps_no_connection(
    store: JobStore, migrated_pg_url: str
) -> None:
    mine = await pid(store)
    await store.aclose()
    with pytest.raises(ConnectionError, match="closed"):
        await store._fetch_sql(ONE, [])
    admin = await asyncpg.connect(migrated_pg_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for _ in range(50):  # the server notices the close within a few ms
            if not await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", mine
            ):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(f"backend {mine} still connected after aclose()")
    finally:
        await admin.close()
