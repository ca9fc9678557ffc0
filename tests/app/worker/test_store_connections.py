"""The worker's raw asyncpg path never hands a broken connection back to the pool.

The hot statements bypass SQLAlchemy's execution layer, so SQLAlchemy never sees their
failures: a statement cancelled mid-protocol (or a dropped socket) must invalidate the
connection itself, or the next job on it fails with "another operation is in progress".
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import create_async_engine

from app.worker.store import JobStore

SLEEP = "SELECT pg_sleep(5)"
ONE = "SELECT 1 AS one"


async def test_cancelled_statement_does_not_poison_the_pool(migrated_pg_url: str) -> None:
    engine = create_async_engine(migrated_pg_url, pool_size=1, max_overflow=0)
    store = JobStore(engine)
    try:
        slow = asyncio.create_task(store._fetch_sql(SLEEP, []))
        await asyncio.sleep(0.3)  # the statement is on the wire, the protocol busy
        slow.cancel()
        await asyncio.gather(slow, return_exceptions=True)
        # One pooled connection: without invalidation this is the same, still-busy one.
        rows = await asyncio.wait_for(store._fetch_sql(ONE, []), timeout=10)
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [(1,)]


async def test_server_error_keeps_the_connection(migrated_pg_url: str) -> None:
    engine = create_async_engine(migrated_pg_url, pool_size=1, max_overflow=0)
    store = JobStore(engine)
    bad = "SELECT 1 / 0"
    try:
        first = await store._fetch_sql(ONE, [])
        failed = await asyncio.gather(store._fetch_sql(bad, []), return_exceptions=True)
        again = await store._fetch_sql(ONE, [])
        pool_status = engine.pool.status()
    finally:
        await engine.dispose()
    assert type(failed[0]).__name__ == "DivisionByZeroError"
    assert [tuple(r) for r in first] == [tuple(r) for r in again] == [(1,)]
    assert "Current Checked out connections: 0" in pool_status


async def test_connection_killed_by_the_server_is_replaced(migrated_pg_url: str) -> None:
    """What a database restart does to every pooled connection, one backend at a time."""
    import asyncpg

    engine = create_async_engine(migrated_pg_url, pool_size=1, max_overflow=0)
    store = JobStore(engine)
    pid_of = "SELECT pg_backend_pid() AS pid"
    admin = await asyncpg.connect(migrated_pg_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        pid = (await store._fetch_sql(pid_of, []))[0]["pid"]
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        await asyncio.sleep(0.2)
        outcomes = await asyncio.gather(store._fetch_sql(ONE, []), return_exceptions=True)
        # The first use may fail (the socket is gone); the one after must not.
        rows = await store._fetch_sql(ONE, [])
        new_pid = (await store._fetch_sql(pid_of, []))[0]["pid"]
    finally:
        await admin.close()
        await engine.dispose()
    assert [tuple(r) for r in rows] == [(1,)]
    assert new_pid != pid
    assert len(outcomes) == 1
