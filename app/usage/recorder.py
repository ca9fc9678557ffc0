"""Write one ``usage_events`` row per completed request, and read per-tenant totals back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import structlog
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.models import UsageEvent
from app.usage.prices import PriceTable

USAGE = cast(Table, UsageEvent.__table__)


@dataclass(frozen=True)
class UsageRecord:
    """What one request consumed."""

    request_id: str
    tenant_id: str
    model: str
    provider: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    cost_usd: Decimal
    created_at: datetime


def build_usage(
    *,
    request_id: str,
    tenant_id: str,
    model: str,
    provider: str,
    tokens_in: int,
    tokens_out: int,
    latency_ms: int,
    at: datetime,
    prices: PriceTable,
) -> UsageRecord:
    """A usage record with its estimated cost (0 and a warning when the model has no price)."""
    cost = prices.estimate(model, tokens_in=tokens_in, tokens_out=tokens_out, on=at.date())
    if cost is None:
        structlog.get_logger(__name__).warning(
            "usage.no_price", model=model, hint="add the model to app/usage/prices.py"
        )
    return UsageRecord(
        request_id=request_id,
        tenant_id=tenant_id,
        model=model,
        provider=provider,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=latency_ms,
        cost_usd=cost if cost is not None else Decimal(0),
        created_at=at,
    )


async def record_usage(conn: AsyncConnection, usage: UsageRecord) -> None:
    """Insert the usage row inside the caller's transaction (request_id is unique)."""
    await conn.execute(
        insert(USAGE).values(
            request_id=usage.request_id,
            tenant_id=usage.tenant_id,
            model=usage.model,
            provider=usage.provider,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            latency_ms=usage.latency_ms,
            cost_usd=usage.cost_usd,
            created_at=usage.created_at,
        )
    )


async def usage_summary(
    conn: AsyncConnection, *, tenant_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Totals per model and provider for one tenant over ``[start, end)``."""
    query = (
        select(
            USAGE.c.model,
            USAGE.c.provider,
            func.count().label("requests"),
            func.sum(USAGE.c.tokens_in).label("tokens_in"),
            func.sum(USAGE.c.tokens_out).label("tokens_out"),
            func.sum(USAGE.c.cost_usd).label("cost_usd"),
            func.avg(USAGE.c.latency_ms).label("avg_latency_ms"),
        )
        .where(USAGE.c.tenant_id == tenant_id)
        .where(USAGE.c.created_at >= start)
        .where(USAGE.c.created_at < end)
        .group_by(USAGE.c.model, USAGE.c.provider)
        .order_by(USAGE.c.model, USAGE.c.provider)
    )
    rows = (await conn.execute(query)).mappings().all()
    return [
        {
            "model": row["model"],
            "provider": row["provider"],
            "requests": int(row["requests"]),
            "tokens_in": int(row["tokens_in"] or 0),
            "tokens_out": int(row["tokens_out"] or 0),
            "cost_usd": Decimal(str(row["cost_usd"] or 0)),
            "avg_latency_ms": float(row["avg_latency_ms"] or 0),
        }
        for row in rows
    ]
