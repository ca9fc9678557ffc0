"""Both limiters: all-or-nothing buckets, refill, revocation."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from app.ratelimit import LimitRule, MemoryRateLimiter
from app.ratelimit.redis import RedisRateLimiter


def _rules(prefix: str, *, tokens: int) -> list[LimitRule]:
    return [
        LimitRule(f"{prefix}:req", 3, 1, "requests"),
        LimitRule(f"{prefix}:tok", 100, tokens, "tokens"),
    ]


async def _exercise(limiter) -> None:
    prefix = uuid.uuid4().hex
    big = await limiter.check(_rules(prefix, tokens=101))
    assert not big.allowed and big.denied_rule == "tokens"
    # The refused check consumed nothing: all three requests still fit.
    results = [await limiter.check(_rules(prefix, tokens=10)) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert results[3].denied_rule == "requests" and results[3].retry_after > 0
    assert results[2].remaining[1] == 70
    await limiter.mark_revoked("key-1")
    assert (await limiter.check(_rules(uuid.uuid4().hex, tokens=1), key_id="key-1")).revoked
    fresh = f"key-{uuid.uuid4().hex}"
    assert not await limiter.is_revoked(fresh)
    await limiter.mark_revoked(fresh)
    assert await limiter.is_revoked(fresh)


async def test_memory_limiter_is_all_or_nothing_and_refills() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    await _exercise(limiter)
    prefix = uuid.uuid4().hex
    for _ in range(3):
        await limiter.check(_rules(prefix, tokens=1))
    now[0] += 20.0  # one third of a minute refills one request
    assert (await limiter.check(_rules(prefix, tokens=1))).allowed


async def test_redis_limiter_matches_the_memory_semantics(redis_url: str) -> None:
    limiter = RedisRateLimiter(Redis.from_url(redis_url))
    try:
        await _exercise(limiter)
        assert await limiter.ping()
    finally:
        await limiter.close()


async def test_redis_limiter_down_is_a_dependency_error_for_revocations_too() -> None:
    import socket

    import pytest

    from app.errors import DependencyUnavailable

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = RedisRateLimiter(Redis(host="127.0.0.1", port=port, socket_connect_timeout=1))
    try:
        with pytest.raises(DependencyUnavailable, match="rate limiter unavailable"):
            await limiter.mark_revoked("key-1")
        with pytest.raises(DependencyUnavailable, match="rate limiter unavailable"):
            await limiter.is_revoked("key-1")
    finally:
        await limiter.close()
