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
        stop = self._stop
        if stop is None or not self._slots.locked():
            await self._slots.acquire()
        elif not await self._acquire_unless_stopped(stop):
            raise NotStarted("the worker is stopping; the job was handed back before its call")
        if stop is not None and stop.is_set():
            self._slots.release()
            raise NotStarted("the worker is stopping; the job was handed back before its call")
        self.in_flight += 1

    async def _acquire_unless_stopped(self, stop: asyncio.Event) -> bool:
        """Wait for a slot or the stop, whichever comes first; True when a slot was taken.

        A job waiting here at SIGTERM goes back at once, not when some call ends (calls can
        outlast the shutdown grace). Only taken when the bound is full: two tasks per wait.
        """
        acquiring = asyncio.ensure_future(self._slots.acquire())
        stopping = asyncio.ensure_future(stop.wait())
        interrupted: BaseException | None = None
        try:
            await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException as exc:  # noqa: BLE001 -- the job was cancelled: re-raised below
            interrupted = exc
        stopping.cancel()
        # No effect once it holds the slot; a waiter cancelled after being woken passes
        # its slot on (asyncio.Semaphore.acquire).
        acquiring.cancel()
        await asyncio.gather(acquiring, stopping, return_exceptions=True)
        held = not acquiring.cancelled() and acquiring.exception() is None
        if interrupted is not None:
            if held:
                self._slots.release()
            raise interrupted
        return held

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.in_flight -= 1
        self._slots.release()
