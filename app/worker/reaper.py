"""Sweeps rows no worker will ever finish, so no request is left pending or processing.

Two cases at-least-once delivery cannot close by itself:
- ``processing`` with a lease long expired after the last allowed delivery: the message
  went to the DLQ while its worker died -> ``failed`` (``lease_expired``);
- ``pending`` older than the queue's message retention: its message can no longer exist
  (for example the gateway could not mark it failed after an enqueue error) -> ``expired``.

Before that last resort, ``requeue_stale`` sends the job message again for ``pending`` rows
nobody touched for ``requeue_after`` (the queue was purged or recreated, a message was
lost): the lease claim makes a second message harmless, since whichever copy arrives
second finds the row taken (or finished) and is deleted.

``requeue_unarchived`` does the same for ``completed`` rows that still have no archive
key: the worker answered, but its S3 put was refused and the message that would have
retried it is gone (sent to the DLQ after an S3 outage longer than its receives, or lost
with a purged or recreated queue). A worker receiving it finds the row completed and only
writes the archive (``WorkerCore``: ``archive_only``); the provider is not called again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.models import UNARCHIVED_WHERE, RequestStatus
from app.queue.sender import MAX_BATCH, job_body
from app.worker.store import REQUESTS


@dataclass(frozen=True)
class ReapPolicy:
    """When a row counts as abandoned."""

    max_receive_count: int
    lease_grace: timedelta
    pending_max_age: timedelta
    # Re-send the message of a pending row untouched this long (zero: never).
    requeue_after: timedelta = timedelta(minutes=15)
    # At most this many rows re-sent per sweep, oldest first.
    requeue_batch: int = 100


@dataclass(frozen=True)
class ReapResult:
    """How many rows each sweep closed."""

    lease_expired: int
    pending_expired: int


async def reap(engine: AsyncEngine, policy: ReapPolicy, *, now: datetime) -> ReapResult:
    """Close abandoned rows in one transaction; safe to run from many workers at once."""
    lease_cutoff = now - policy.lease_grace
    pending_cutoff = now - policy.pending_max_age
    async with engine.begin() as conn:
        stale = await conn.execute(
            update(REQUESTS)
            .where(
                and_(
                    REQUESTS.c.status == RequestStatus.PROCESSING,
                    REQUESTS.c.lease_expires_at < lease_cutoff,
                    REQUESTS.c.attempts >= policy.max_receive_count,
                )
            )
            .values(
                status=RequestStatus.FAILED,
                error_code="lease_expired",
                error_message="the worker holding this request stopped on its last delivery; "
                "submit the request again",
                lease_owner=None,
                completed_at=now,
                updated_at=now,
            )
        )
        orphaned = await conn.execute(
            update(REQUESTS)
            .where(
                and_(
                    REQUESTS.c.status == RequestStatus.PENDING,
                    REQUESTS.c.created_at < pending_cutoff,
                )
            )
            .values(
                status=RequestStatus.EXPIRED,
                error_code="expired",
                error_message="no worker picked this request up within the queue's retention",
                completed_at=now,
                updated_at=now,
            )
        )
    return ReapResult(lease_expired=stale.rowcount, pending_expired=orphaned.rowcount)


async def requeue_stale(
    engine: AsyncEngine, sqs: Any, queue_url: str, policy: ReapPolicy, *, now: datetime
) -> int:
    """Send the job message again for stale ``pending`` rows; returns how many were sent.

    A row counts as stale when its ``updated_at`` is older than ``policy.requeue_after``
    and it is still within the queue's retention (older rows are the reaper's to expire).
    Each re-sent row's ``updated_at`` moves to ``now``, so it is re-sent at most once per
    ``requeue_after``. SQS errors propagate: the caller logs them and tries next sweep.
    """
    pending = and_(
        REQUESTS.c.status == RequestStatus.PENDING,
        REQUESTS.c.created_at >= now - policy.pending_max_age,
    )
    return await _resend(engine, sqs, queue_url, policy, pending, now=now)


async def requeue_unarchived(
    engine: AsyncEngine, sqs: Any, queue_url: str, policy: ReapPolicy, *, now: datetime
) -> int:
    """Send the job message again for ``completed`` rows still without their archive copy.

    Only rows that still hold their prompt (the archive drops it), completed within the
    queue's retention (``pending_max_age``: older rows never had a message this could stand
    for, such as rows from before archiving was turned on, which are not backfilled), and
    whose ``updated_at`` is older than ``policy.requeue_after``. Each re-sent row's
    ``updated_at`` moves to ``now`` (so the API shows a later ``updated_at`` than
    ``completed_at`` for it), and it is re-sent at most once per ``requeue_after`` while
    S3 keeps refusing. Call it only when the worker archives (an archive bucket is
    configured): without one no row ever gets a key. Returns how many were sent; SQS errors
    propagate, as for ``requeue_stale``.
    """
    return await _resend(engine, sqs, queue_url, policy, unarchived(policy, now), now=now)


def unarchived(policy: ReapPolicy, now: datetime) -> ColumnElement[bool]:
    """Rows ``requeue_unarchived`` is for (before the ``requeue_after`` test).

    The partial index's own predicate, as text: PostgreSQL uses
    ``ix_inference_requests_unarchived`` only when the query states it literally (a bound
    parameter would not prove the match).
    """
    return and_(text(UNARCHIVED_WHERE), REQUESTS.c.completed_at >= now - policy.pending_max_age)


def stale_rows(rows_like: ColumnElement[bool], policy: ReapPolicy, now: datetime) -> Select[Any]:
    """The oldest ``requeue_batch`` rows matching ``rows_like``, untouched for ``requeue_after``."""
    return (
        select(REQUESTS.c.id, REQUESTS.c.tenant_id)
        .where(rows_like, REQUESTS.c.updated_at < now - policy.requeue_after)
        .order_by(REQUESTS.c.updated_at)
        .limit(policy.requeue_batch)
    )


async def _resend(
    engine: AsyncEngine,
    sqs: Any,
    queue_url: str,
    policy: ReapPolicy,
    rows_like: ColumnElement[bool],
    *,
    now: datetime,
) -> int:
    """Send a job message for up to ``requeue_batch`` rows matching ``rows_like`` and
    untouched for ``requeue_after`` (oldest first); mark the sent ones touched ``now``."""
    if policy.requeue_after <= timedelta(0):
        return 0
    async with engine.connect() as conn:
        rows = (await conn.execute(stale_rows(rows_like, policy, now))).all()
    sent: list[str] = []
    for start in range(0, len(rows), MAX_BATCH):
        chunk = rows[start : start + MAX_BATCH]
        entries = [
            {"Id": str(i), "MessageBody": job_body(request_id=row.id, tenant_id=row.tenant_id)}
            for i, row in enumerate(chunk)
        ]
        answer = await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        accepted = {entry["Id"] for entry in answer.get("Successful", [])}
        sent += [row.id for i, row in enumerate(chunk) if str(i) in accepted]
    if sent:
        async with engine.begin() as conn:
            await conn.execute(
                update(REQUESTS).where(REQUESTS.c.id.in_(sent), rows_like).values(updated_at=now)
            )
    return len(sent)
