"""PassBatch: the calls of one event-loop pass share one send; nothing else changes."""

from __future__ import annotations

import asyncio

import pytest

from app.worker.batching import PassBatch


class Recorder:
    def __init__(self, error: Exception | None = None) -> None:
        self.batches: list[list[int]] = []
        self.error = error

    async def send(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        if self.error is not None:
            raise self.error
        return [item * 10 for item in items]


async def test_calls_of_one_pass_share_a_send_and_get_their_own_results() -> None:
    recorder = Recorder()
    batch = PassBatch(recorder.send)

    together = await asyncio.gather(*(batch.submit(n) for n in (1, 2, 3)))
    alone = await batch.submit(4)

    assert together == [10, 20, 30] and alone == 40
    assert recorder.batches == [[1, 2, 3], [4]]


async def test_a_failed_send_reaches_every_caller_of_its_batch() -> None:
    batch = PassBatch(Recorder(error=OSError("down")).send)

    results = await asyncio.gather(batch.submit(1), batch.submit(2), return_exceptions=True)

    assert [type(r) for r in results] == [OSError, OSError]


async def test_a_call_cancelled_before_the_send_is_left_out() -> None:
    recorder = Recorder()
    batch = PassBatch(recorder.send)
    kept = asyncio.ensure_future(batch.submit(1))
    dropped = asyncio.ensure_future(batch.submit(2))
    await asyncio.sleep(0)  # both joined the batch; the send has not run yet
    dropped.cancel()

    assert await kept == 10
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert recorder.batches == [[1]]
