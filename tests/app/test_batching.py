"""GroupCommit: concurrent calls share sends; nobody waits forever; errors reach callers."""

from __future__ import annotations

import asyncio

import pytest

from app.batching import GroupCommit


class Recorder:
    """A send that answers item * 10 after a short await, recording each group."""

    def __init__(self, delay: float = 0.01) -> None:
        self.groups: list[list[int]] = []
        self.delay = delay

    async def __call__(self, items: list[int]) -> list[int | BaseException]:
        self.groups.append(list(items))
        await asyncio.sleep(self.delay)
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


async def test_an_idle_call_is_sent_alone_and_at_once() -> None:
    send = Recorder()
    batch = GroupCommit(send, max_batch=10)
    assert await asyncio.wait_for(batch.submit(1), timeout=1) == 10
    assert send.groups == [[1]]


async def test_the_calls_of_one_pass_share_a_send() -> None:
    send = Recorder()
    batch = GroupCommit(send, max_batch=10, max_inflight=4)
    assert await asyncio.gather(*(batch.submit(n) for n in (1, 2, 3))) == [10, 20, 30]
    assert await batch.submit(4) == 40
    assert send.groups == [[1, 2, 3], [4]]


async def test_calls_made_during_a_send_leave_together_next() -> None:
    send = Recorder()
    batch = GroupCommit(send, max_batch=10)
    first = asyncio.ensure_future(batch.submit(1))
    await asyncio.sleep(0.001)  # the first send is under way
    rest = [asyncio.ensure_future(batch.submit(i)) for i in range(2, 6)]
    assert await asyncio.gather(first, *rest) == [10, 20, 30, 40, 50]
    assert send.groups == [[1], [2, 3, 4, 5]]


async def test_max_batch_splits_and_max_inflight_sends_in_parallel() -> None:
    send = Recorder()
    batch = GroupCommit(send, max_batch=3, max_inflight=2)
    results = await asyncio.gather(*(batch.submit(i) for i in range(7)))
    assert results == [i * 10 for i in range(7)]
    assert all(len(group) <= 3 for group in send.groups)
    assert sorted(i for group in send.groups for i in group) == list(range(7))


async def test_back_to_back_calls_never_wait_on_a_finished_sender() -> None:
    """A call made right after a send completes starts a new one (regression: it hung)."""
    send = Recorder(delay=0)
    batch = GroupCommit(send, max_batch=10)
    for i in range(200):
        assert await asyncio.wait_for(batch.submit(i), timeout=1) == i * 10


async def test_item_errors_reach_their_caller_and_send_errors_reach_everyone() -> None:
    send = Recorder()
    batch = GroupCommit(send, max_batch=10)
    good, bad = await asyncio.gather(batch.submit(2), batch.submit(-1), return_exceptions=True)
    assert good == 20 and isinstance(bad, ValueError)

    async def broken(items: list[int]) -> list[int]:
        raise ConnectionError("down")

    failing: GroupCommit[int, int] = GroupCommit(broken, max_batch=10)
    results = await asyncio.gather(*(failing.submit(i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)


async def test_a_caller_cancelled_before_the_send_is_left_out() -> None:
    send = Recorder()
    batch = GroupCommit(send, max_batch=10)
    first = asyncio.ensure_future(batch.submit(1))
    await asyncio.sleep(0.001)
    gone = asyncio.ensure_future(batch.submit(2))
    kept = asyncio.ensure_future(batch.submit(3))
    await asyncio.sleep(0)
    gone.cancel()
    assert await first == 10 and await kept == 30
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert send.groups == [[1], [3]]


async def test_with_linger_calls_spread_over_the_window_share_one_send() -> None:
    send = Recorder(delay=0)
    batch = GroupCommit(send, max_batch=10, linger=1.0)

    async def later(n: int) -> int:
        await asyncio.sleep(0.01 * n)  # well inside the linger, even on a stalled loop
        return await batch.submit(n)

    results = await asyncio.wait_for(asyncio.gather(*(later(n) for n in (1, 2, 3))), 5)
    assert results == [10, 20, 30]
    assert send.groups == [[1, 2, 3]]


async def test_without_linger_calls_one_after_another_go_one_by_one() -> None:
    send = Recorder(delay=0)
    batch = GroupCommit(send, max_batch=10)
    assert [await asyncio.wait_for(batch.submit(n), 5) for n in (1, 2, 3)] == [10, 20, 30]
    assert send.groups == [[1], [2], [3]]


async def test_a_group_that_fills_during_the_linger_leaves_at_once() -> None:
    send = Recorder(delay=0)
    batch = GroupCommit(send, max_batch=3, linger=30.0)
    first = asyncio.ensure_future(batch.submit(1))
    await asyncio.sleep(0.01)  # the sender is lingering now
    assert not first.done()
    rest = [asyncio.ensure_future(batch.submit(n)) for n in (2, 3)]
    assert await asyncio.wait_for(asyncio.gather(first, *rest), 5) == [10, 20, 30]
    assert send.groups == [[1, 2, 3]]


async def test_a_lone_call_with_linger_waits_the_linger_and_no_longer() -> None:
    send = Recorder(delay=0)
    batch = GroupCommit(send, max_batch=10, linger=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await asyncio.wait_for(batch.submit(7), timeout=5) == 70
    assert 0.05 <= loop.time() - started < 2.0
    assert send.groups == [[7]]


async def test_a_full_group_does_not_wait_for_the_linger() -> None:
    send = Recorder(delay=0)
    batch = GroupCommit(send, max_batch=3, linger=30.0)
    # max_batch calls in one pass: the sender finds the group full and sends at once.
    assert await asyncio.wait_for(asyncio.gather(*(batch.submit(n) for n in (1, 2, 3))), 5) == [
        10,
        20,
        30,
    ]
    assert send.groups == [[1, 2, 3]]


async def test_a_caller_gone_during_the_linger_has_no_write_made() -> None:
    send = Recorder(delay=0)
    batch = GroupCommit(send, max_batch=10, linger=0.1)
    leaving = asyncio.ensure_future(batch.submit(1))
    staying = asyncio.ensure_future(batch.submit(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    assert await asyncio.wait_for(staying, 5) == 20
    assert send.groups == [[2]]
