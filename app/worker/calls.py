"""How many provider calls one worker process makes at once (``WORKER_CONCURRENCY``).

The bound sits around the provider call only: the claim before it and the store, archive
and notification after it run outside, so a slot is held for the provider's latency and
not for the worker's own round trips (which would cap a worker at concurrency / (latency
+ bookkeeping) jobs/s). A job that reaches the bound after the worker was told to stop
does not start its call: ``NotStarted`` hands it back.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class NotStarted(Exception):
    """The worker is stopping: the provider call was not made and the job goes back."""


class ProviderCalls:
    """An ``async with`` bound on provider calls in flight that refuses new ones on stop."""

    def __init__(self, limit: int, *, stop: asyncio.Event | None = None) -> None:
        if limit < 1:
            raise ValueError(f"provider call limit must be at least 1, got {limit}")
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self._stop = stop
        self.in_flight = 0

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        if self._stop is not None and self._stop.is_set():
            self._slots.release()
            raise NotStarted("the worker is stopping; the job was handed back before its call")
        self.in_flight += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.in_flight -= 1
        self._slots.release()
