"""Completion notifications: in-process and through Redis PUBLISH/SUBSCRIBE."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from app.notify import CHANNEL, InProcessNotifier, NullNotifier, RedisNotifier, notifier_for
from app.settings import Settings


def _redis(url: str) -> RedisNotifier:
    from redis.asyncio import Redis

    return RedisNotifier(Redis.from_url(url))


@pytest.fixture
async def gateway_side(redis_url: str) -> AsyncIterator[RedisNotifier]:
    notifier = _redis(redis_url)
    assert await notifier.subscribed(timeout=10)
    yield notifier
    await notifier.aclose()


@pytest.fixture
async def worker_side(redis_url: str) -> AsyncIterator[RedisNotifier]:
    notifier = _redis(redis_url)
    yield notifier
    await notifier.aclose()


async def test_in_process_publish_wakes_only_the_waiters_of_that_request() -> None:
    notifier = InProcessNotifier()
    with notifier.watch("req_a") as a, notifier.watch("req_b") as b:
        await notifier.publish_done("req_a")
        assert await a.wait(5)
        assert not await b.wait(0.01)


async def test_wait_done_times_out_without_a_publish() -> None:
    assert not await InProcessNotifier().wait_done("req_x", 0.01)
    assert not await NullNotifier().wait_done("req_x", 0.01)


async def test_waiter_blocks_again_after_it_was_woken() -> None:
    notifier = InProcessNotifier()
    with notifier.watch("req_a") as waiter:
        await notifier.publish_done("req_a")
        assert await waiter.wait(5)
        assert not await waiter.wait(0.01)


async def test_redis_publish_wakes_a_waiter_in_another_notifier_within_ms(
    gateway_side: RedisNotifier, worker_side: RedisNotifier
) -> None:
    request_id = f"req_{uuid.uuid4().hex}"
    with gateway_side.watch(request_id) as waiter:
        started = time.monotonic()
        await worker_side.publish_done(request_id)
        assert await waiter.wait(5)
        elapsed = time.monotonic() - started
    # Typically a few ms; the waiter's own bound is 5 s (room for a stalled CI machine).
    assert elapsed < 1.0, elapsed


async def test_redis_fans_one_subscription_out_to_every_waiter(
    gateway_side: RedisNotifier, worker_side: RedisNotifier, redis_url: str
) -> None:
    from redis.asyncio import Redis

    request_id = f"req_{uuid.uuid4().hex}"
    with gateway_side.watch(request_id) as first, gateway_side.watch(request_id) as second:
        await worker_side.publish_done(request_id)
        assert await first.wait(5) and await second.wait(5)
    client = Redis.from_url(redis_url)
    try:
        counts = dict(await client.pubsub_numsub(CHANNEL))
    finally:
        await client.aclose()
    assert counts[CHANNEL.encode()] >= 1


async def test_redis_publish_failure_is_swallowed() -> None:
    # Port 9 (discard) is closed on 127.0.0.1: the publish fails fast and is only logged.
    notifier = _redis("redis://127.0.0.1:9/0")
    try:
        await notifier.publish_done("req_lost")
    finally:
        await notifier.aclose()


async def test_notifier_for_picks_redis_only_when_configured(redis_url: str) -> None:
    plain = await notifier_for(Settings(agatha_env="test"))
    with_redis = await notifier_for(Settings(agatha_env="test", redis_url=redis_url))
    try:
        assert isinstance(plain, NullNotifier) and not plain.live
        assert isinstance(with_redis, RedisNotifier) and with_redis.live
    finally:
        await with_redis.aclose()
