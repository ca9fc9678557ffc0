"""Put jobs straight into the database and the queue (what the gateway would have done).

Used where the gateway is not under test (worker throughput, soak): rows are inserted
in bulk and messages sent in batches of 10, so the feeder costs little CPU.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

MODEL = "gpt-4o-mini"


def job_rows(tenant_id: str, count: int, *, tag: str) -> list[dict[str, Any]]:
    """``count`` pending rows with unique prompts (the fake counts calls per prompt)."""
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for _ in range(count):
        request_id = "req_" + uuid.uuid4().hex[:26].upper()
        rows.append(
            {
                "id": request_id,
                "tenant_id": tenant_id,
                "api_key_id": None,
                "model": MODEL,
                "prompt": f"{tag} {request_id}",
                "parameters": {},
                "status": "pending",
                "idempotency_key": None,
                "request_hash": "bench",
                "created_at": now,
                "updated_at": now,
                "attempts": 0,
            }
        )
    return rows


async def feed(engine: AsyncEngine, sqs: Any, queue_url: str, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows`` and enqueue one message each; returns how many were enqueued."""
    from app.db.models import InferenceRequest
    from app.queue.sender import job_body

    table: Any = InferenceRequest.__table__
    async with engine.begin() as conn:
        await conn.execute(sa.insert(table), rows)
    sent = 0
    for start in range(0, len(rows), 10):
        chunk = rows[start : start + 10]
        entries = [
            {"Id": str(i), "MessageBody": job_body(request_id=r["id"], tenant_id=r["tenant_id"])}
            for i, r in enumerate(chunk)
        ]
        response = await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        sent += len(response.get("Successful", []))
    return sent


async def status_counts(engine: AsyncEngine) -> dict[str, int]:
    """Requests per status."""
    from app.db.models import InferenceRequest

    table: Any = InferenceRequest.__table__
    query = sa.select(table.c.status, sa.func.count()).group_by(table.c.status)
    async with engine.connect() as conn:
        return {str(status): int(n) for status, n in (await conn.execute(query)).all()}
