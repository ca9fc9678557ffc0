"""The Redis limiter groups concurrent checks into pipelines without changing answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from app.errors import DependencyUnavailable
from app.ratelimit import LimitRule
from app.ratelimit.redis import RedisRateLimiter, ScriptBatcher


@pytest.fixture
async def limiter(redis_url: str) -> AsyncIterator[RedisRateLimiter]:
    limiter = RedisRateLimiter(Redis.from_url(redis_url))
    yield limiter
    await limiter.close()


def _rules(prefix: str, limit: int) -> list[LimitRule]:
    return [LimitRule(f"{prefix}:req", limit, 1, "requests")]


@pytest.fixture
def pipelines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the pipelines sent (spies on ScriptBatcher._execute, which still runs)."""
    sizes: list[int] = []
    execute = ScriptBatcher._execute

    async def counted(self: ScriptBatcher, batch: list[Any]) -> list[Any]:
        sizes.append(len(batch))
        return await execute(self, batch)

    monkeypatch.setattr(ScriptBatcher, "_execute", counted)
    return sizes


async def test_concurrent_checks_share_pipelines_and_admit_exactly_the_limit(
    limiter: RedisRateLimiter, pipelines: list[int]
) -> None:
    rules = _rules(uuid.uuid4().hex, limit=20)
    await limiter.check(_rules(uuid.uuid4().hex, limit=5))  # loads the script
    pipelines.clear()
    decisions = await asyncio.gather(*(limiter.check(rules) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 20
    assert sum(pipelines) == 50 and len(pipelines) < 50
    # Each caller got its own bucket reading: remaining counts down 19..0 once each.
    assert sorted(d.remaining[0] for d in decisions if d.allowed) == list(range(20))


async def test_an_idle_check_is_sent_alone_at_once(
    limiter: RedisRateLimiter, pipelines: list[int]
) -> None:
    decision = await asyncio.wait_for(limiter.check(_rules(uuid.uuid4().hex, 3)), timeout=2)
    assert decision.allowed
    assert pipelines[-1] == 1


async def test_flushed_scripts_are_loaded_again(
    limiter: RedisRateLimiter, redis_url: str, pipelines: list[int]
) -> None:
    prefix = uuid.uuid4().hex
    assert (await limiter.check(_rules(prefix, 2))).allowed
    admin = Redis.from_url(redis_url)
    try:
        await admin.script_flush()
    finally:
        await admin.aclose()
    pipelines.clear()
    decisions = await asyncio.gather(*(limiter.check(_rules(prefix, 2)) for _ in range(3)))
    assert [d.allowed for d in decisions].count(True) == 1  # one left of two
    assert len(pipelines) >= 2  # the NOSCRIPT round, then the retry


async def test_an_unreachable_redis_fails_every_waiting_check_fast() -> None:
    limiter = RedisRateLimiter(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1))
    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                *(limiter.check(_rules("x", 5)) for _ in range(5)), return_exceptions=True
            ),
            timeout=10,
        )
    finally:
        await limiter.close()
    assert all(isinstance(r, DependencyUnavailable) for r in results)
    assert all(r.dependency == "redis" for r in results if isinstance(r, DependencyUnavailable))
