"""Rate limits through HTTP: exactly the limit admitted, across two gateway instances."""

from __future__ import annotations

import asyncio

BODY = {"prompt": "Hi", "model": "local-echo", "parameters": {"maxTokens": 10}}


async def test_tenant_requests_per_minute_admits_exactly_the_limit(harness) -> None:
    tenant = await harness.tenant(rpm=5)
    headers = harness.user_token(tenant)
    statuses = [
        (await harness.client.post("/api/inference", json=BODY, headers=headers)).status_code
        for _ in range(7)
    ]
    assert statuses == [202] * 5 + [429] * 2
    refused = await harness.client.post("/api/inference", json=BODY, headers=headers)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Limit"] == "5"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert len(harness.queued_messages()) == 5


async def test_tokens_per_minute_is_enforced_and_all_or_nothing(harness) -> None:
    # Each request costs ceil(2/4) + 10 = 11 tokens; 40 tokens admit 3 requests.
    tenant = await harness.tenant(rpm=100, tpm=40)
    headers = harness.user_token(tenant)
    statuses = [
        (await harness.client.post("/api/inference", json=BODY, headers=headers)).status_code
        for _ in range(5)
    ]
    assert statuses == [202, 202, 202, 429, 429]


async def test_per_key_limit_applies_below_the_tenant_limit(harness) -> None:
    tenant = await harness.tenant(rpm=100)
    key = harness.bearer(await harness.api_key(tenant, rpm=2))
    other = harness.bearer(await harness.api_key(tenant, rpm=2))
    codes = [
        (await harness.client.post("/api/inference", json=BODY, headers=key)).status_code
        for _ in range(3)
    ]
    assert codes == [202, 202, 429]
    assert (
        await harness.client.post("/api/inference", json=BODY, headers=other)
    ).status_code == 202


async def test_two_gateway_instances_sharing_redis_admit_exactly_the_limit(
    harness, start_gateway
) -> None:
    tenant = await harness.tenant(rpm=10)
    headers = harness.user_token(tenant)
    async with start_gateway() as second:
        shared = second.gateway.settings.uses_redis
        calls = [
            gw.client.post("/api/inference", json=BODY, headers=headers)
            for gw in [harness, second] * 15
        ]
        codes = [r.status_code for r in await asyncio.gather(*calls)]
    assert set(codes) == {202, 429}
    # Shared Redis: 10 in total. In-memory (embedded default): each process its own 10.
    assert codes.count(202) == (10 if shared else 20)
