"""Dated prices, cost estimates and the usage rows the worker writes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import create_async_engine

from app.usage.prices import ModelPrice, PriceTable, default_prices
from app.usage.recorder import build_usage, record_usage, usage_summary


def test_estimate_uses_price_in_force_on_the_day() -> None:
    table = PriceTable(
        [
            ModelPrice("m", Decimal("1"), Decimal("2"), date(2025, 1, 1), "test"),
            ModelPrice("m", Decimal("10"), Decimal("20"), date(2025, 6, 1), "test"),
        ]
    )
    assert table.estimate(
        "m", tokens_in=1_000_000, tokens_out=500_000, on=date(2025, 3, 1)
    ) == Decimal("2.000000")
    assert table.estimate("m", tokens_in=1_000, tokens_out=0, on=date(2025, 7, 1)) == Decimal(
        "0.010000"
    )
    assert table.estimate("m", tokens_in=1, tokens_out=1, on=date(2024, 1, 1)) is None
    assert table.estimate("unknown", tokens_in=1, tokens_out=1, on=date(2025, 7, 1)) is None


def test_default_table_prices_every_catalogue_model() -> None:
    from app.settings import DEFAULT_MODEL_CATALOGUE

    table = PriceTable(default_prices())
    today = date.today()
    assert all(table.price(model, on=today) is not None for model in DEFAULT_MODEL_CATALOGUE)
    assert all(p.source and p.as_of for p in default_prices())


async def test_usage_rows_sum_per_tenant_and_period(migrated_pg_url: str) -> None:
    engine = create_async_engine(migrated_pg_url)
    tenant, now = f"t_{uuid.uuid4().hex[:8]}", datetime.now(UTC)
    table = PriceTable(default_prices())
    try:
        async with engine.begin() as conn:
            for n in range(3):
                usage = build_usage(
                    request_id=f"r_{uuid.uuid4().hex[:10]}",
                    tenant_id=tenant,
                    model="gpt-4o-mini",
                    provider="openai",
                    tokens_in=1_000_000,
                    tokens_out=0,
                    latency_ms=100 * n,
                    at=now,
                    prices=table,
                )
                await record_usage(conn, usage)
        async with engine.connect() as conn:
            summary = await usage_summary(
                conn, tenant_id=tenant, start=now - timedelta(hours=1), end=now + timedelta(hours=1)
            )
    finally:
        await engine.dispose()
    assert len(summary) == 1
    assert (summary[0]["requests"], summary[0]["tokens_in"]) == (3, 3_000_000)
    assert summary[0]["cost_usd"] == Decimal("0.45")
