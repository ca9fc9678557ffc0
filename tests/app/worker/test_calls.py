"""ProviderCalls: at most ``limit`` calls in flight, and none started once the worker stops."""

from __future__ import annotations

import asyncio

import pytest

from app.worker.calls import NotStarted, ProviderCalls


async def test_never_more_than_the_limit_in_flight() -> None:
    calls, most, release = ProviderCalls(3), [0], asyncio.Event()

    async def call() -> None:
        async with calls:
            most[0] = max(most[0], calls.in_flight)
            await release.wait()

    tasks = [asyncio.create_task(call()) for _ in range(10)]
    for _ in range(100):  # bounded: let every task reach the bound
        await asyncio.sleep(0)
    assert calls.in_flight == 3
    release.set()
    await asyncio.gather(*tasks)
    assert (most[0], calls.in_flight) == (3, 0)


async def test_a_call_waiting_for_a_slot_when_the_worker_stops_is_not_started() -> None:
    stop = asyncio.Event()
    calls, started = ProviderCalls(1, stop=stop), []
    refusing = asyncio.create_task(calls.refuse_waiters_on_stop())

    async def call(name: str, hold: asyncio.Event) -> None:
        async with calls:
            started.append(name)
            await hold.wait()

    first_hold = asyncio.Event()
    first = asyncio.create_task(call("first", first_hold))
    await asyncio.sleep(0)
    second = asyncio.create_task(call("second", asyncio.Event()))
    await asyncio.sleep(0)
    stop.set()
    first_hold.set()  # the running call finishes normally
    await first
    with pytest.raises(NotStarted):
        await second
    assert (started, calls.in_flight) == (["first"], 0)
    # The refused waiter gave its slot back: the next one gets it at once (then is refused).
    with pytest.raises(NotStarted):
        async with asyncio.timeout(1), calls:
            pass
    await refusing


def test_a_limit_below_one_is_refused_with_the_value() -> None:
    with pytest.raises(ValueError, match="at least 1, got 0"):
        ProviderCalls(0)


async def test_a_waiting_call_is_refused_at_once_on_stop_while_the_running_one_goes_on() -> None:
    stop, hold = asyncio.Event(), asyncio.Event()
    calls = ProviderCalls(1, stop=stop)
    refusing = asyncio.create_task(calls.refuse_waiters_on_stop())

    async def running() -> None:
        async with calls:
            await hold.wait()

    first = asyncio.create_task(running())
    await asyncio.sleep(0)

    async def waiting() -> None:
        async with calls:
            raise AssertionError("a call started after the stop")

    second = asyncio.create_task(waiting())
    await asyncio.sleep(0)
    stop.set()
    with pytest.raises(NotStarted):
        await asyncio.wait_for(second, timeout=1)  # not when ``first`` ends: it has not
    assert (first.done(), calls.in_flight) == (False, 1)
    hold.set()
    await first
    assert calls.in_flight == 0
    await refusing


async def test_a_job_cancelled_while_waiting_for_a_slot_leaves_no_slot_taken() -> None:
    stop, hold = asyncio.Event(), asyncio.Event()
    calls = ProviderCalls(1, stop=stop)
    refusing = asyncio.create_task(calls.refuse_waiters_on_stop())

    async def call() -> None:
        async with calls:
            await hold.wait()

    first = asyncio.create_task(call())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(call())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    hold.set()
    await first
    # The one slot is free again: the next call gets it at once.
    async with asyncio.timeout(1), calls:
        assert calls.in_flight == 1
    # A job cancelled from outside stays cancelled (not turned into NotStarted) on stop.
    hold.clear()
    first = asyncio.create_task(call())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(call())
    await asyncio.sleep(0)
    waiter.cancel()
    stop.set()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    hold.set()
    await first
    await refusing
