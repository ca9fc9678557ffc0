"""Claims, completions and archive keys of one event-loop pass go to PostgreSQL as one
statement each.

Batching must not change what a call means: each row is taken at most once (a second
delivery in the same batch finds it taken), terminal rows are never taken, a completion
writes its usage row exactly when it matched its owner's row, and a failed statement
reaches every job that was waiting on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.models import InferenceRequest, RequestStatus, UsageEvent
from app.usage.recorder import UsageRecord
from app.worker.store import ARCHIVE_KEY_LINGER_SECONDS, JobStore, utc_now


def counting(store: JobStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the SQL of every statement ``store`` sends on the raw driver."""
    sent: list[str] = []
    original = store._fetch_sql

    async def fetch_sql(sql: str, args: Sequence[Any]) -> list[Any]:
        sent.append(sql)
        return await original(sql, args)

    monkeypatch.setattr(store, "_fetch_sql", fetch_sql)
    return sent


async def test_one_pass_of_claims_is_one_statement_taking_each_row_once(
    make_store: Callable[..., JobStore],
    engine: AsyncEngine,
    make_request: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, twice, last = [await make_request() for _ in range(3)]
    done = await make_request(status=RequestStatus.COMPLETED)
    store = make_store()
    sent = counting(store, monkeypatch)

    claims = await asyncio.gather(
        *(
            store.claim(request_id, owner="w1", lease_seconds=30)
            for request_id in (first, twice, last, twice, done)
        )
    )

    assert len(sent) == 1
    assert [job.id if job else None for job in claims] == [first, twice, last, None, None]
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(InferenceRequest).where(InferenceRequest.id == twice))
        ).one()
    assert (row.status, row.lease_owner, row.attempts) == (RequestStatus.PROCESSING, "w1", 1)


async def test_a_failed_claim_statement_reaches_every_waiting_job(
    make_store: Callable[..., JobStore],
    engine: AsyncEngine,
    make_request: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = [await make_request() for _ in range(2)]
    store = make_store()

    async def refused(sql: str, args: Sequence[Any]) -> list[Any]:
        raise OSError("connection refused")

    monkeypatch.setattr(store, "_fetch_sql", refused)
    results = await asyncio.gather(
        *(store.claim(i, owner="w1", lease_seconds=30) for i in ids), return_exceptions=True
    )

    assert [type(r) for r in results] == [OSError, OSError]


def usage_for(request_id: str, tenant: str) -> UsageRecord:
    return UsageRecord(
        request_id=request_id,
        tenant_id=tenant,
        model="m",
        provider="fake",
        tokens_in=3,
        tokens_out=5,
        latency_ms=200,
        cost_usd=Decimal("0.000125"),
        created_at=utc_now(),
    )


def answer(text: str) -> dict[str, Any]:
    return {
        "response": text,
        "tokens_in": 3,
        "tokens_out": 5,
        "provider": "fake",
        "processing_ms": 200,
    }


async def test_one_pass_of_completions_is_one_statement_with_a_usage_row_per_match(
    make_store: Callable[..., JobStore],
    engine: AsyncEngine,
    make_request: Callable[..., Any],
    tenant: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = make_store()
    mine, lost = [await make_request() for _ in range(2)]
    for request_id in (mine, lost):
        assert await store.claim(request_id, owner="w1", lease_seconds=30) is not None
    sent = counting(store, monkeypatch)

    results = await asyncio.gather(
        store.complete(mine, owner="w1", values=answer("a"), usage=usage_for(mine, tenant)),
        store.complete(mine, owner="w1", values=answer("b"), usage=usage_for(mine, tenant)),
        # Another worker's lease on ``lost``: neither the row nor a usage row is written.
        store.complete(lost, owner="w2", values=answer("c"), usage=usage_for(lost, tenant)),
    )

    assert len(sent) == 1
    assert results == [True, False, False]
    async with engine.connect() as conn:
        rows = {
            r.id: r
            for r in await conn.execute(
                select(InferenceRequest).where(InferenceRequest.id.in_([mine, lost]))
            )
        }
        usage = (
            await conn.execute(select(UsageEvent).where(UsageEvent.request_id.in_([mine, lost])))
        ).all()
    assert (rows[mine].status, rows[mine].response, rows[mine].lease_owner) == (
        RequestStatus.COMPLETED,
        "a",
        None,
    )
    assert rows[lost].status == RequestStatus.PROCESSING
    assert [(u.request_id, u.tokens_out, u.cost_usd) for u in usage] == [
        (mine, 5, Decimal("0.000125"))
    ]


@pytest.mark.parametrize("apart", [0.0, ARCHIVE_KEY_LINGER_SECONDS / 4])
async def test_archive_keys_set_within_the_linger_are_one_statement(
    make_store: Callable[..., JobStore],
    engine: AsyncEngine,
    make_request: Callable[..., Any],
    tenant: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    apart: float,
) -> None:
    store = make_store()
    ids = [await make_request() for _ in range(3)]
    for request_id in ids:
        await store.claim(request_id, owner="w1", lease_seconds=30)
        usage = usage_for(request_id, tenant)
        assert await store.complete(request_id, owner="w1", values=answer("x"), usage=usage)
    sent = counting(store, monkeypatch)

    async def archived(n: int, request_id: str) -> None:
        await asyncio.sleep(apart * n)  # jobs finishing one after another, not together
        await store.set_archived(request_id, archive_key=f"archive/{request_id}.json")

    await asyncio.wait_for(asyncio.gather(*(archived(n, i) for n, i in enumerate(ids))), 10)

    assert len(sent) == 1
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(InferenceRequest.id, InferenceRequest.archive_key, InferenceRequest.prompt)
                .where(InferenceRequest.id.in_(ids))
                .order_by(InferenceRequest.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(i, f"archive/{i}.json", None) for i in sorted(ids)]
