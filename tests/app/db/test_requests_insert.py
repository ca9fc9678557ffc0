"""insert_pending: one autocommit statement that keeps the idempotency-key semantics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, exc, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, QueuePool

from app.db import accounts
from app.db import requests as store
from app.db.engine import POOL_SIZE, create_engine_for, statement_lease_for
from app.gateway.accept import DB_ERRORS


@dataclass
class Db:
    """An engine, plus the grouped inserts when the case runs the gateway's asyncpg path."""

    engine: AsyncEngine
    inserts: store.PendingInserts | None = None

    async def insert(self, new: store.NewRequest) -> dict[str, Any] | None:
        return await store.insert_pending(self.engine, new, inserts=self.inserts)


@pytest.fixture(params=["sqlite", "postgres", "postgres+lease"])
async def db(
    request: pytest.FixtureRequest, sqlite_url: str, migrated_db: Callable[[str], str]
) -> AsyncIterator[Db]:
    if request.param == "sqlite":
        url = migrated_db(sqlite_url)
    else:
        url = request.getfixturevalue("migrated_pg_url")
    engine = create_engine_for(url)
    lease = statement_lease_for(engine, size=4) if request.param.endswith("lease") else None
    inserts = store.PendingInserts(lease) if lease is not None else None
    yield Db(engine, inserts)
    if inserts is not None:
        await inserts.close()
    await engine.dispose()


@pytest.fixture
async def pg_db(migrated_pg_url: str) -> AsyncIterator[Db]:
    engine = create_engine_for(migrated_pg_url)
    lease = statement_lease_for(engine, size=4)
    assert lease is not None
    inserts = store.PendingInserts(lease)
    yield Db(engine, inserts)
    await inserts.close()
    await engine.dispose()


@pytest.fixture
async def pg_engine(migrated_pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(migrated_pg_url)
    yield engine
    await engine.dispose()


async def _tenant(engine: AsyncEngine) -> str:
    tenant_id = f"t_{uuid.uuid4().hex[:12]}"
    await accounts.create_tenant(
        engine, tenant_id=tenant_id, name="T", requests_per_minute=1, tokens_per_minute=1
    )
    return tenant_id


def _new(tenant_id: str, *, key: str | None = None) -> store.NewRequest:
    return store.NewRequest(
        id=f"req_{uuid.uuid4().hex}",
        tenant_id=tenant_id,
        api_key_id=None,
        model="gpt-4o-mini",
        prompt="hello",
        parameters={"temperature": 0.5},
        idempotency_key=key,
        request_hash="h",
        created_at=datetime.now(UTC),
    )


async def _count(engine: AsyncEngine, tenant_id: str) -> int:
    async with engine.connect() as conn:
        query = text("SELECT count(*) FROM inference_requests WHERE tenant_id = :t")
        return int((await conn.execute(query, {"t": tenant_id})).scalar_one())


async def test_concurrent_inserts_with_one_idempotency_key_store_exactly_one(
    db: Db,
) -> None:
    tenant_id = await _tenant(db.engine)
    results = await asyncio.gather(*(db.insert(_new(tenant_id, key="k-1")) for _ in range(20)))
    winners = [row for row in results if row is not None]
    assert len(winners) == 1
    assert await _count(db.engine, tenant_id) == 1
    stored = await store.find_by_idempotency_key(db.engine, tenant_id=tenant_id, key="k-1")
    assert stored is not None and stored["id"] == winners[0]["id"]


async def test_same_key_in_another_tenant_and_requests_without_key_are_all_stored(
    db: Db,
) -> None:
    first, second = await _tenant(db.engine), await _tenant(db.engine)
    news = [_new(first, key="k"), _new(second, key="k")] + [_new(first) for _ in range(10)]
    results = await asyncio.gather(*(db.insert(new) for new in news))
    assert all(row is not None for row in results)
    assert (await _count(db.engine, first), await _count(db.engine, second)) == (11, 1)


async def test_inserted_row_is_committed_and_readable_from_another_connection(
    db: Db,
) -> None:
    tenant_id = await _tenant(db.engine)
    new = _new(tenant_id, key="visible")
    row = await db.insert(new)
    other = create_engine_for(db.engine.url.render_as_string(hide_password=False))
    try:
        stored = await store.get_for_tenant(other, tenant_id=tenant_id, request_id=new.id)
        async with other.connect() as conn:
            table = store.requests_table
            query = select(table.c.parameters, table.c.updated_at, table.c.attempts)
            extra = (await conn.execute(query.where(table.c.id == new.id))).one()
    finally:
        await other.dispose()
    assert row is not None and stored is not None
    assert stored["status"] == "pending" and stored["created_at"] == new.created_at
    # The JSON column round-trips as the same object the ORM/Core path would store.
    assert extra.parameters == {"temperature": 0.5} and extra.attempts == 0
    assert store.utc(extra.updated_at) == new.created_at


async def test_insert_for_an_unknown_tenant_raises_integrity_error(db: Db) -> None:
    with pytest.raises(exc.IntegrityError):
        await db.insert(_new("t_missing"))
    # The connection went back to the pool usable: the next insert succeeds.
    assert await db.insert(_new(await _tenant(db.engine))) is not None


async def test_insert_leaves_no_connection_idle_in_transaction(pg_db: Db) -> None:
    tenant_id = await _tenant(pg_db.engine)
    await asyncio.gather(*(pg_db.insert(_new(tenant_id)) for _ in range(8)))
    database = pg_db.engine.url.database
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres") as admin:
        states = admin.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    assert states, "the pool should keep its connections open"
    assert ("idle in transaction",) not in states


async def test_insert_recovers_after_the_server_drops_pooled_connections(
    pg_db: Db,
) -> None:
    tenant_id = await _tenant(pg_db.engine)
    assert await pg_db.insert(_new(tenant_id)) is not None
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (pg_db.engine.url.database,),
        )
    with pytest.raises(DB_ERRORS):
        await pg_db.insert(_new(tenant_id))
    # The broken connection was dropped, not handed out again.
    assert await pg_db.insert(_new(tenant_id)) is not None
    await pg_db.engine.dispose()  # SQLAlchemy's pooled connections were terminated too
    assert await _count(pg_db.engine, tenant_id) == 2


async def test_pool_keeps_a_full_burst_of_connections_open(pg_engine: AsyncEngine) -> None:
    opened: list[object] = []
    event.listen(pg_engine.sync_engine, "connect", lambda conn, record: opened.append(conn))

    async def burst() -> None:
        held: list[PoolProxiedConnection] = []
        try:
            for _ in range(POOL_SIZE):
                held.append(await pg_engine.raw_connection())
        finally:
            for conn in held:
                conn.close()

    await burst()
    await burst()
    assert isinstance(pg_engine.pool, QueuePool) and pg_engine.pool.size() == POOL_SIZE
    assert len(opened) == POOL_SIZE


async def test_concurrent_inserts_share_statements_and_a_bad_row_fails_alone(
    pg_db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups: list[int] = []
    insert_rows = store.PendingInserts._insert_rows

    async def counted(self: store.PendingInserts, rows: list[Any]) -> list[Any]:
        groups.append(len(rows))
        return await insert_rows(self, rows)

    monkeypatch.setattr(store.PendingInserts, "_insert_rows", counted)
    lease = statement_lease_for(pg_db.engine, size=4)
    assert lease is not None
    db = Db(pg_db.engine, store.PendingInserts(lease))  # built after the spy is in place
    tenant_id = await _tenant(pg_db.engine)
    await db.insert(_new(tenant_id))  # alone: the one-row statement
    news = [_new(tenant_id) for _ in range(12)]
    news[5] = _new("t_deleted_meanwhile")
    results = await asyncio.gather(*(db.insert(new) for new in news), return_exceptions=True)
    await lease.close()
    assert groups[0] == 1 and len(groups) < 1 + 12
    assert isinstance(results[5], exc.IntegrityError)
    assert all(row is not None for i, row in enumerate(results) if i != 5)
    assert await _count(pg_db.engine, tenant_id) == 12
