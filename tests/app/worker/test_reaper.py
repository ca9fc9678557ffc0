"""The reaper closes abandoned rows and leaves live ones alone."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.models import UNARCHIVED_WHERE, InferenceRequest, RequestStatus, Tenant
from app.worker.reaper import ReapPolicy, reap, requeue_stale, requeue_unarchived

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


# The PostgreSQL database is shared by the session's tests: rows get unique ids and a
# clock far in the past, so rows other tests write (at the real time) are never stale here.
PAST = datetime(2001, 1, 1, 12, 0, tzinfo=UTC)


def _unique_ids() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    return {name: f"{name}_{suffix}" for name in ("lost_msg", "queued_now", "too_old", "working")}


def _row_at(
    request_id: str, status: str, *, at: datetime = PAST, **values: object
) -> dict[str, object]:
    base = _row(request_id, status, created_at=at - timedelta(minutes=5), updated_at=at)
    return base | values


async def test_requeue_resends_only_stale_pending_rows_once(
    engine: AsyncEngine, tenant: str, aws_clients: dict[str, Any], queues: dict[str, str]
) -> None:
    ids = _unique_ids()
    stale_at = PAST - timedelta(minutes=20)
    rows = [
        _row_at(ids["lost_msg"], "pending", tenant_id=tenant, updated_at=stale_at),
        _row_at(ids["queued_now"], "pending", tenant_id=tenant),
        _row_at(ids["too_old"], "pending", tenant_id=tenant, created_at=PAST - timedelta(days=5)),
        _row_at(ids["working"], "processing", tenant_id=tenant, updated_at=stale_at),
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(InferenceRequest), rows)
    sqs, queue_url = aws_clients["sqs"], queues["queue_url"]
    policy = replace(POLICY, requeue_after=timedelta(minutes=15))

    first = await requeue_stale(engine, sqs, queue_url, policy, now=PAST)
    again = await requeue_stale(engine, sqs, queue_url, policy, now=PAST + timedelta(minutes=1))

    received = await sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    bodies = [json.loads(m["Body"]) for m in received.get("Messages", [])]
    assert first == 1 and again == 0
    assert bodies == [{"v": 1, "id": ids["lost_msg"], "tenant": tenant}]
    table = InferenceRequest.__table__
    async with engine.connect() as conn:
        touched = (
            await conn.execute(select(table.c.updated_at).where(table.c.id == ids["lost_msg"]))
        ).scalar_one()
    assert touched == PAST


async def test_requeue_disabled_sends_nothing(
    engine: AsyncEngine, tenant: str, aws_clients: dict[str, Any], queues: dict[str, str]
) -> None:
    # Ten years before PAST: beyond the other test's retention window, so never its rows.
    now = PAST - timedelta(days=3650)
    ids = _unique_ids()
    stale = _row_at(ids["lost_msg"], "pending", at=now, updated_at=now - timedelta(days=1))
    async with engine.begin() as conn:
        await conn.execute(insert(InferenceRequest), [stale | {"tenant_id": tenant}])
    policy = replace(POLICY, requeue_after=timedelta(0))
    sent = await requeue_stale(engine, aws_clients["sqs"], queues["queue_url"], policy, now=now)
    received = await aws_clients["sqs"].receive_message(QueueUrl=queues["queue_url"])
    assert sent == 0 and "Messages" not in received


async def test_requeue_unarchived_resends_completed_rows_without_their_archive_once(
    engine: AsyncEngine, tenant: str, aws_clients: dict[str, Any], queues: dict[str, str]
) -> None:
    """Completed, no archive key, prompt still held, untouched for requeue_after: re-sent."""
    suffix = uuid.uuid4().hex[:10]
    names = ("unarchived", "keyed", "prompt_gone", "failed", "too_old", "just_done", "lost_pending")
    ids = {name: f"{name}_{suffix}" for name in names}
    # A clock before PAST, so the pending test's rows (at PAST) are never stale here.
    now = PAST - timedelta(days=30)
    stale_at = now - timedelta(minutes=20)

    def completed(
        name: str, *, done_at: datetime = stale_at, **values: object
    ) -> dict[str, object]:
        return (
            _row_at(
                ids[name],
                "completed",
                at=now,
                tenant_id=tenant,
                updated_at=done_at,
                completed_at=done_at,
            )
            | values
        )

    rows = [
        completed("unarchived"),
        completed("keyed", archive_key="archive/x.json"),  # archived, prompt kept: not sent
        completed("prompt_gone", prompt=None),
        # Failed rows keep their prompt and never get an archive: not the sweep's.
        _row_at(ids["failed"], "failed", at=now, tenant_id=tenant, updated_at=stale_at),
        # Completed before the queue's retention (4 days): no message it could stand for.
        completed("too_old", completed_at=now - timedelta(days=5)),
        completed("just_done", done_at=now),
        _row_at(ids["lost_pending"], "pending", at=now, tenant_id=tenant, updated_at=stale_at),
    ]
    columns = {key for row in rows for key in row}  # one multi-row INSERT: the same keys
    rows = [{key: None for key in columns} | row for row in rows]
    async with engine.begin() as conn:
        await conn.execute(insert(InferenceRequest), rows)
    sqs, queue_url = aws_clients["sqs"], queues["queue_url"]
    policy = replace(POLICY, requeue_after=timedelta(minutes=15))

    first = await requeue_unarchived(engine, sqs, queue_url, policy, now=now)
    again = await requeue_unarchived(engine, sqs, queue_url, policy, now=now + timedelta(minutes=1))
    later = await requeue_unarchived(
        engine, sqs, queue_url, policy, now=now + timedelta(minutes=16)
    )
    off = await requeue_unarchived(
        engine,
        sqs,
        queue_url,
        replace(policy, requeue_after=timedelta(0)),
        now=now + timedelta(hours=1),
    )

    received = await sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    bodies = [json.loads(m["Body"]) for m in received.get("Messages", [])]
    # Once per requeue_after (16 minutes on, "just_done" is stale too); 0 disables.
    assert (first, again, later, off) == (1, 0, 2, 0)
    sent_ids = sorted(body["id"] for body in bodies)
    assert sent_ids == sorted([ids["unarchived"], ids["unarchived"], ids["just_done"]])
    assert all(body == {"v": 1, "id": body["id"], "tenant": tenant} for body in bodies)
    table = InferenceRequest.__table__
    async with engine.connect() as conn:
        found = dict(
            (
                await conn.execute(
                    select(table.c.id, table.c.updated_at).where(table.c.id.in_(ids.values()))
                )
            ).all()
        )
    assert found[ids["unarchived"]] == found[ids["just_done"]] == now + timedelta(minutes=16)
    untouched = ("keyed", "prompt_gone", "failed", "too_old", "lost_pending")
    assert {found[ids[name]] for name in untouched} == {stale_at}


async def test_the_unarchived_sweep_can_use_its_partial_index(engine: AsyncEngine) -> None:
    """The sweep's query states the partial index's predicate, so PostgreSQL can answer it
    from the (normally empty) index instead of scanning every completed row."""
    from sqlalchemy.dialects import postgresql

    from app.worker.reaper import stale_rows, unarchived

    query = stale_rows(unarchived(POLICY, PAST), POLICY, PAST)
    # As sent (bound parameters): the predicate is in the text itself, so even a generic
    # plan of the prepared statement can prove the index's predicate.
    assert UNARCHIVED_WHERE in str(query.compile(dialect=postgresql.dialect()))
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        # On a small test table the planner would scan anyway; off, it must show the index
        # is usable at all (it is not when the predicate is not implied by the query).
        await conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(row[0] for row in (await conn.execute(text(f"EXPLAIN {sql}"))).all())
    assert "ix_inference_requests_unarchived" in plan, plan
