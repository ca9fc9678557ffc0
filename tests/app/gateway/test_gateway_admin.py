"""Admin routes: keys (create/list/revoke), usage analytics, audit rows, tenant scoping."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from app.db import accounts
from app.errors import DependencyUnavailable


async def test_admin_creates_lists_and_revokes_keys_with_audit_rows(harness) -> None:
    tenant = await harness.tenant()
    admin = harness.bearer(await harness.api_key(tenant, role="admin"))
    created = await harness.client.post(
        "/api/admin/keys", json={"name": "bob@example.com", "role": "user"}, headers=admin
    )
    assert created.status_code == 201
    key = created.json()
    assert key["key"].startswith("agk_") and key["prefix"] == key["key"][:12]
    listed = (await harness.client.get("/api/admin/keys", headers=admin)).json()
    assert key["id"] in {k["id"] for k in listed}
    assert all("key" not in k and "keyHash" not in k for k in listed)
    assert "<email>" in {k["name"] for k in listed}
    revoked = await harness.client.delete(f"/api/admin/keys/{key['id']}", headers=admin)
    assert revoked.json()["revoked"] is True
    actions = [row["action"] for row in await accounts.list_audit(harness.gateway.engine, tenant)]
    assert actions == ["api_key.create", "api_key.revoke"]


async def test_a_revoke_the_limiter_cannot_spread_answers_503_and_can_be_repeated(
    harness, monkeypatch
) -> None:
    tenant = await harness.tenant()
    admin = harness.bearer(await harness.api_key(tenant, role="admin"))
    key = (await harness.client.post("/api/admin/keys", json={}, headers=admin)).json()
    limiter = harness.gateway.limiter
    working = limiter.mark_revoked

    async def redis_down(key_id: str) -> None:
        raise DependencyUnavailable("rate limiter unavailable: ConnectionError", dependency="redis")

    monkeypatch.setattr(limiter, "mark_revoked", redis_down)
    failed = await harness.client.delete(f"/api/admin/keys/{key['id']}", headers=admin)
    assert failed.status_code == 503 and "Retry-After" in failed.headers
    # Already revoked where it counts (the database) and audited; the caller repeats.
    first = next(
        k
        for k in (await harness.client.get("/api/admin/keys", headers=admin)).json()
        if k["id"] == key["id"]
    )
    assert first["revoked"] is True
    monkeypatch.setattr(limiter, "mark_revoked", working)
    again = await harness.client.delete(f"/api/admin/keys/{key['id']}", headers=admin)
    assert again.status_code == 200
    assert again.json()["revokedAt"] == first["revokedAt"]  # the first revocation's time
    assert await limiter.is_revoked(key["id"])
    actions = [row["action"] for row in await accounts.list_audit(harness.gateway.engine, tenant)]
    assert actions == ["api_key.create", "api_key.revoke", "api_key.revoke"]


async def test_admin_cannot_touch_another_tenants_key(harness) -> None:
    mine, theirs = await harness.tenant(), await harness.tenant()
    admin = harness.bearer(await harness.api_key(mine, role="admin"))
    other_admin = harness.bearer(await harness.api_key(theirs, role="admin"))
    other_key = (await harness.client.post("/api/admin/keys", json={}, headers=other_admin)).json()
    response = await harness.client.delete(f"/api/admin/keys/{other_key['id']}", headers=admin)
    assert response.status_code == 404
    assert other_key["id"] not in {
        k["id"] for k in (await harness.client.get("/api/admin/keys", headers=admin)).json()
    }


async def test_usage_sums_the_tenants_usage_events_only(harness) -> None:
    mine, theirs = await harness.tenant(), await harness.tenant()
    now = datetime.now(UTC)
    rows = [
        (mine, "r1", "gpt-4o-mini", 10, 5, 0.01),
        (mine, "r2", "gpt-4o-mini", 20, 5, 0.02),
        (theirs, "r3", "gpt-4o-mini", 1000, 1000, 9.0),
    ]
    async with harness.gateway.engine.begin() as conn:
        await conn.execute(
            sa.insert(accounts.usage_events),
            [
                {
                    "request_id": f"{tenant}-{rid}",
                    "tenant_id": tenant,
                    "model": model,
                    "provider": "openai",
                    "tokens_in": tin,
                    "tokens_out": tout,
                    "latency_ms": 100,
                    "cost_usd": cost,
                    "created_at": now,
                }
                for tenant, rid, model, tin, tout, cost in rows
            ],
        )
    admin = harness.bearer(await harness.api_key(mine, role="admin"))
    usage = await harness.client.get("/api/admin/usage", headers=admin)
    assert usage.status_code == 200, usage.text
    body = usage.json()
    assert body["totalRequests"] == 2
    assert body["models"][0]["tokensIn"] == 30
    assert abs(body["totalCostUsd"] - 0.03) < 1e-9
    actions = [row["action"] for row in await accounts.list_audit(harness.gateway.engine, mine)]
    assert actions == ["usage.export"]
