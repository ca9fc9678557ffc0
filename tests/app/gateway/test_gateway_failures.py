"""Failure paths: enqueue failure marks the row failed; a down database answers 503."""

from __future__ import annotations

import sqlalchemy as sa

from app.db.engine import create_engine_for, statement_lease_for
from app.db.requests import PendingInserts, requests_table

BODY = {"prompt": "Hello", "model": "local-echo", "parameters": {}}


async def test_enqueue_failure_marks_the_row_failed_not_pending(start_gateway, aws_env) -> None:
    missing_queue = f"{aws_env}/123456789012/no-such-queue"
    async with start_gateway(queue_url=missing_queue) as gw:
        tenant = await gw.tenant()
        response = await gw.client.post("/api/inference", json=BODY, headers=gw.user_token(tenant))
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "queue_unavailable"
        assert "Retry-After" in response.headers
        async with gw.gateway.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(requests_table.c.status, requests_table.c.error_code).where(
                        requests_table.c.tenant_id == tenant
                    )
                )
            ).all()
        assert [tuple(row) for row in rows] == [("failed", "enqueue_failed")]


async def test_database_down_answers_503_and_queues_nothing(harness) -> None:
    tenant = await harness.tenant()
    headers = harness.user_token(tenant)
    assert (
        await harness.client.post("/api/inference", json=BODY, headers=headers)
    ).status_code == 202
    gw = harness.gateway
    working, working_inserts = gw.engine, gw.inserts
    gw.engine = create_engine_for("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    dead = statement_lease_for(gw.engine, size=1)
    if working_inserts is not None and dead is not None:  # PostgreSQL: the grouped inserts
        gw.inserts = PendingInserts(dead)
    try:
        response = await harness.client.post("/api/inference", json=BODY, headers=headers)
        ready = await harness.client.get("/readyz")
    finally:
        await gw.engine.dispose()
        gw.engine, gw.inserts = working, working_inserts
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "db_unavailable"
    assert response.headers["Retry-After"] == "2"
    assert ready.status_code == 503 and ready.json()["checks"]["database"] is False
    assert len(harness.queued_messages()) == 1
