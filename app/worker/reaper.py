"""Sweeps rows no worker will ever finish, so no request is left pending or processing.

Two cases at-least-once delivery cannot close by itself:
- ``processing`` with a lease long expired after the last allowed delivery: the message
  went to the DLQ while its worker died -> ``failed`` (``lease_expired``);
- ``pending`` older than the queue's message retention: its message can no longer exist
  (for example the gateway could not mark it failed after an enqueue error) -> ``expired``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.models import RequestStatus
from app.worker.store import REQUESTS


@dataclass(frozen=True)
class ReapPolicy:
    """When a row counts as abandoned."""

    max_receive_count: int
    lease_grace: timedelta
    pending_max_age: timedelta


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
