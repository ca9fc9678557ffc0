"""ConnectionLease: bounded bare asyncpg connections for one-statement queries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import create_engine_for, statement_lease_for
from app.db.lease import ConnectionLease


@pytest.fixture
async def engine(migrated_pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(migrated_pg_url)
    yield engine
    await engine.dispose()


def _lease(engine: AsyncEngine, size: int = 2) -> ConnectionLease:
    lease = statement_lease_for(engine, size=size)
    assert lease is not None
    return lease


async def test_connections_open_lazily_and_are_reused(engine: AsyncEngine) -> None:
    lease = _lease(engine, size=3)
    backends = set()
    for _ in range(5):
        async with lease.connection() as conn:
            backends.add(await conn.fetchval("SELECT pg_backend_pid()"))
    assert lease.idle_count == 1
    # One server process served all five (counted by pid: pg_stat_activity may still list
    # a just-closed connection of an earlier fixture on a busy machine).
    assert len(backends) == 1
    await lease.close()


async def test_a_busy_lease_waits_then_times_out(engine: AsyncEngine) -> None:
    lease = ConnectionLease.for_engine(
        engine, size=1, connect_args={"timeout": 2}, acquire_timeout=0.2
    )
    async with lease.connection():
        with pytest.raises(TimeoutError):
            async with lease.connection():
                pass
    # Free again: the next caller gets the connection back.
    async with lease.connection() as conn:
        assert await conn.fetchval("SELECT 2") == 2
    await lease.close()


async def test_server_errors_keep_the_connection_and_others_drop_only_theirs(
    engine: AsyncEngine,
) -> None:
    lease = _lease(engine, size=2)
    with pytest.raises(asyncpg.PostgresError):
        async with lease.connection() as conn:
            await conn.execute("SELECT * FROM no_such_table")
    assert lease.idle_count == 1
    async with lease.connection() as first, lease.connection() as second:
        assert first is not second
    assert lease.idle_count == 2
    with pytest.raises(RuntimeError):
        async with lease.connection() as broken:
            raise RuntimeError("broken mid-protocol")
    assert broken.is_closed()
    assert lease.idle_count == 1  # the other one was not touched
    async with lease.connection() as conn:
        assert conn is not broken
        assert await conn.fetchval("SELECT 3") == 3
    await lease.close()


async def _terminate(engine: AsyncEngine, conn: asyncpg.Connection) -> None:
    """End ``conn``'s server process, as a restart or failover would."""
    pid = conn.get_server_pid()
    async with engine.connect() as admin:
        raw = await admin.get_raw_connection()
        assert await raw.driver_connection.fetchval("SELECT pg_terminate_backend($1)", pid)


async def _closed(conn: asyncpg.Connection) -> None:
    """Wait (bounded) until the client has seen the server end ``conn``."""
    for _ in range(100):  # the socket's end reaches the client within milliseconds
        if conn.is_closed():
            return
        await asyncio.sleep(0.02)
    pytest.fail("the terminated connection never reported closed")


async def test_a_connection_lost_in_use_drops_every_idle_one(engine: AsyncEngine) -> None:
    lease = _lease(engine, size=2)
    async with lease.connection() as first, lease.connection():
        pass
    assert lease.idle_count == 2
    with pytest.raises(asyncpg.InterfaceError):
        async with lease.connection() as conn:
            await _terminate(engine, conn)
            await _closed(conn)
            await conn.fetchval("SELECT 1")
    assert lease.idle_count == 0  # the server went away: nothing idle is trusted
    async with lease.connection() as conn:
        assert await conn.fetchval("SELECT 6") == 6
    await lease.close()
    assert first.is_closed()


async def test_an_idle_connection_whose_server_process_ended_is_not_handed_out(
    engine: AsyncEngine,
) -> None:
    lease = _lease(engine, size=1)
    async with lease.connection() as conn:
        before = conn.get_server_pid()
    await _terminate(engine, conn)
    await _closed(conn)
    async with lease.connection() as fresh:  # no failed statement first
        assert fresh.get_server_pid() != before
        assert await fresh.fetchval("SELECT 7") == 7
    await lease.close()


async def test_a_closed_lease_refuses_and_closes_what_comes_back(engine: AsyncEngine) -> None:
    lease = _lease(engine)
    async with lease.connection() as held:
        await lease.close()
        assert await held.fetchval("SELECT 4") == 4
    assert held.is_closed()
    with pytest.raises(ConnectionError):
        async with lease.connection():
            pass


async def test_cancellation_mid_statement_drops_the_connection(engine: AsyncEngine) -> None:
    lease = _lease(engine)

    async def slow() -> None:
        async with lease.connection() as conn:
            await conn.execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lease.idle_count == 0
    async with lease.connection() as conn:
        assert await conn.fetchval("SELECT 5") == 5
    await lease.close()


def test_sqlite_engines_get_no_lease(sqlite_url: str) -> None:
    assert statement_lease_for(create_engine_for(sqlite_url), size=2) is None
