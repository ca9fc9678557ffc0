"""Completion notifications: in-process and through Redis PUBLISH/SUBSCRIBE."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from app.notify import (
    CHANNEL,
    PUBLISH_TIMEOUT_SECONDS,
    InProcessNotifier,
    NullNotifier,
    RedisNotifier,
    notifier_for,
)
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


async def test_concurrent_redis_publishes_each_wake_their_own_waiter(
    gateway_side: RedisNotifier, worker_side: RedisNotifier
) -> None:
    ids = [f"req_{uuid.uuid4().hex}" for _ in range(50)]
    with contextlib.ExitStack() as watching:
        waiters = [watching.enter_context(gateway_side.watch(i)) for i in ids]
        await asyncio.gather(*(worker_side.publish_done(i) for i in ids[:25]))
        woken = await asyncio.gather(*(w.wait(5) for w in waiters[:25]))
        # The other half was never published: none of those waiters wakes.
        asleep = await asyncio.gather(*(w.wait(0.05) for w in waiters[25:]))
    assert woken == [True] * 25
    assert asleep == [False] * 25


async def test_redis_publish_failure_is_swallowed_and_logged() -> None:
    # Port 9 (discard) is closed on 127.0.0.1: the publish fails fast and is only logged.
    notifier = _redis("redis://127.0.0.1:9/0")
    try:
        with capture_logs() as logs:
            await notifier.publish_done("req_lost")
    finally:
        await notifier.aclose()
    failed = [e for e in logs if e["event"] == "notify.publish_failed"]
    assert [e["request_id"] for e in failed] == ["req_lost"]


async def test_a_redis_that_never_answers_costs_a_publish_its_timeout_only() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # reads nothing, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    notifier = _redis(f"redis://127.0.0.1:{port}/0")
    try:
        started = time.monotonic()
        with capture_logs() as logs:
            await asyncio.gather(notifier.publish_done("req_a"), notifier.publish_done("req_b"))
        elapsed = time.monotonic() - started
    finally:
        await notifier.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert elapsed < PUBLISH_TIMEOUT_SECONDS + 4.0, elapsed
    failed = sorted(e["request_id"] for e in logs if e["event"] == "notify.publish_failed")
    assert failed == ["req_a", "req_b"]


async def test_notifier_for_picks_redis_only_when_configured(redis_url: str) -> None:
    plain = await notifier_for(Settings(agatha_env="test"))
    with_redis = await notifier_for(Settings(agatha_env="test", redis_url=redis_url))
    try:
        assert isinstance(plain, NullNotifier) and not plain.live
        assert isinstance(with_redis, RedisNotifier) and with_redis.live
    finally:
        await with_redis.aclose()
