"""Gather the calls made in one pass of the event loop into one call of a batch function.

The jobs of one receive batch start in the same pass (and, at a steady provider latency,
often finish together), so their claims and completions can share one statement each.
The task that sends a batch is created by its first call, so its first step is queued
behind the callbacks already ready in that pass: the others join without waiting, and
a lone call goes out one pass later than it would have alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
SendBatch = Callable[[list[Item]], Awaitable[Sequence[Result]]]


class PassBatch(Generic[Item, Result]):
    """``await submit(item)`` returns ``send(items)[i]`` for the batch ``item`` joined."""

    def __init__(self, send: SendBatch[Item, Result]) -> None:
        self._send = send
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        # The loop keeps only weak references to tasks.
        self._sending: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Join the current pass's batch and wait for this item's result (or the error)."""
        if not self._pending:
            task = asyncio.create_task(self._send_pending())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        return await future

    async def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        # A caller cancelled before the send (shutdown) must not have its write made.
        batch = [(item, future) for item, future in batch if not future.cancelled()]
        if not batch:
            return
        try:
            results = await self._send([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 -- handed to every caller, which raises it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
