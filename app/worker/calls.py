"""How many provider calls one worker process makes at once (``WORKER_CONCURRENCY``).

The bound sits around the provider call only: the store, archive and notification after
it run outside, so a slot is held for the provider's latency and not for the worker's own
round trips (which would cap a worker at concurrency / (latency + bookkeeping) jobs/s).
Under WORKER_INTERRUPTED_CALLS=fail the claim runs inside the slot too, because that one
statement also marks the call as started (app/worker/core.py); the slot is then held for
one round trip more, as it was for the separate mark before. A job that reaches the bound
after the worker was told to stop does not start its call: ``NotStarted`` hands it back.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

STOPPING = "the worker is stopping; the job was handed back before its call"


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
        # Jobs waiting for a slot, and those refused by ``refuse_waiters_on_stop``.
        self._waiting: set[asyncio.Task[object]] = set()
        self._refused: set[asyncio.Task[object]] = set()

    async def __aenter__(self) -> None:
        await self.acquire()

    @property
    def full(self) -> bool:
        """Every slot is taken: ``acquire`` would wait."""
        return self._slots.locked()

    async def acquire(self) -> None:
        """Take a slot; ``NotStarted`` when the worker is stopping."""
        stop = self._stop
        if stop is not None and self._slots.locked():
            await self._wait_for_slot()
        else:
            await self._slots.acquire()
        if stop is not None and stop.is_set():
            self._slots.release()
            raise NotStarted(STOPPING)
        self.in_flight += 1

    async def _wait_for_slot(self) -> None:
        """Acquire, unless ``refuse_waiters_on_stop`` gives up for this job first."""
        task = asyncio.current_task()
        assert task is not None  # always inside a task on a running loop
        self._waiting.add(task)
        try:
            await self._slots.acquire()
        except asyncio.CancelledError:
            # Refused: not a cancellation of the job (unless it was cancelled as well).
            # A waiter cancelled after being woken passes its slot on (asyncio.Semaphore).
            if task in self._refused:
                self._refused.discard(task)
                if task.uncancel() == 0:
                    raise NotStarted(STOPPING) from None
            raise
        finally:
            self._waiting.discard(task)

    async def refuse_waiters_on_stop(self) -> None:
        """Run beside the jobs: once stopping, jobs waiting for a slot go back at once.

        Not when some call ends: calls can outlast the shutdown grace. One task for the
        whole poller, where racing each wait against the stop cost two tasks per job.
        """
        if self._stop is None:
            return
        await self._stop.wait()
        for task in list(self._waiting):
            self._refused.add(task)
            task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        """Give back a slot taken by ``acquire``."""
        self.in_flight -= 1
        self._slots.release()


class CallSlot:
    """One job's hold on a ``ProviderCalls`` slot: taken once, given back at most once.

    ``None`` (the Lambda worker, whose batch size is the bound) makes both no-ops.
    """

    def __init__(self, calls: ProviderCalls | None) -> None:
        self._calls = calls
        self._held = False

    @property
    def free(self) -> bool:
        """``acquire`` would not wait (held already, unbounded, or a slot is free)."""
        return self._held or self._calls is None or not self._calls.full

    async def acquire(self) -> None:
        if self._calls is not None and not self._held:
            await self._calls.acquire()
            self._held = True

    def release(self) -> None:
        if self._calls is not None and self._held:
            self._held = False
            self._calls.release()
