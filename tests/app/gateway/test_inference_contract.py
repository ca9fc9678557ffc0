"""The 202-and-poll contract through HTTP, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from app.db.requests import requests_table
from app.gateway.ids import is_request_id

BODY = {"prompt": "Hello there", "model": "local-echo", "parameters": {"temperature": 0.2}}


async def test_post_answers_202_with_location_and_queues_ids_only(harness) -> None:
    tenant = await harness.tenant()
    response = await harness.client.post(
        "/api/inference", json=BODY, headers=harness.user_token(tenant)
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert is_request_id(body["id"]) and body["status"] == "pending"
    assert response.headers["Location"] == f"/api/inference/{body['id']}"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == "600"
    assert harness.queued_messages() == [{"v": 1, "id": body["id"], "tenant": tenant}]


async def test_status_and_result_follow_the_row(harness) -> None:
    tenant = await harness.tenant()
    headers = harness.user_token(tenant)
    created = (await harness.client.post("/api/inference", json=BODY, headers=headers)).json()
    status = await harness.client.get(f"/api/inference/{created['id']}", headers=headers)
    assert status.status_code == 200 and status.json()["status"] == "pending"
    pending = await harness.client.get(f"/api/inference/{created['id']}/result", headers=headers)
    assert pending.status_code == 202 and "Retry-After" in pending.headers
    await _complete(harness, created["id"])
    done = await harness.client.get(f"/api/inference/{created['id']}/result", headers=headers)
    assert done.status_code == 200
    assert done.json()["response"] == "General Kenobi"
    assert done.json()["tokens"] == {"input": 3, "output": 2, "total": 5}
    assert done.json()["processingTime"] == 42


async def _complete(harness, request_id: str) -> None:
    now = datetime.now(UTC)
    async with harness.gateway.engine.begin() as conn:
        await conn.execute(
            sa.update(requests_table)
            .where(requests_table.c.id == request_id)
            .values(
                status="completed",
                response="General Kenobi",
                tokens_in=3,
                tokens_out=2,
                processing_ms=42,
                provider="local",
                completed_at=now,
                updated_at=now,
            )
        )


async def test_failed_and_cancelled_results_have_documented_error_bodies(harness) -> None:
    tenant = await harness.tenant()
    headers = harness.user_token(tenant)
    created = (await harness.client.post("/api/inference", json=BODY, headers=headers)).json()
    cancelled = await harness.client.delete(f"/api/inference/{created['id']}", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    result = await harness.client.get(f"/api/inference/{created['id']}/result", headers=headers)
    assert result.status_code == 410
    assert result.json()["status"] == "cancelled"
    assert result.json()["error"]["code"] == "cancelled"


async def test_other_tenants_request_answers_404(harness) -> None:
    owner, other = await harness.tenant(), await harness.tenant()
    created = (
        await harness.client.post("/api/inference", json=BODY, headers=harness.user_token(owner))
    ).json()
    for method, path in [
        ("GET", f"/api/inference/{created['id']}"),
        ("GET", f"/api/inference/{created['id']}/result"),
        ("DELETE", f"/api/inference/{created['id']}"),
    ]:
        response = await harness.client.request(method, path, headers=harness.user_token(other))
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"


async def test_idempotency_key_replays_same_body_and_rejects_a_different_one(harness) -> None:
    tenant = await harness.tenant()
    headers = harness.user_token(tenant) | {"Idempotency-Key": "order-42"}
    first = await harness.client.post("/api/inference", json=BODY, headers=headers)
    again = await harness.client.post("/api/inference", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = await harness.client.post(
        "/api/inference", json=BODY | {"prompt": "other"}, headers=headers
    )
    assert changed.status_code == 422
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    assert len(harness.queued_messages()) == 1


async def test_long_poll_returns_202_after_the_bounded_wait(harness) -> None:
    tenant = await harness.tenant()
    headers = harness.user_token(tenant)
    created = (await harness.client.post("/api/inference", json=BODY, headers=headers)).json()
    response = await harness.client.get(
        f"/api/inference/{created['id']}/result", params={"wait": 0.2}, headers=headers
    )
    assert response.status_code == 202


async def test_health_ready_and_metrics(harness) -> None:
    assert (await harness.client.get("/healthz")).json() == {"status": "ok"}
    ready = await harness.client.get("/readyz")
    assert ready.status_code == 200 and all(ready.json()["checks"].values())
    await harness.client.get("/healthz")
    metrics = await harness.client.get("/metrics")
    assert 'agatha_gateway_requests_total{method="GET",route="/healthz",status="200"}' in (
        metrics.text
    )
