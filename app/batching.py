"""Group commit: concurrent calls share one round trip, without a timer.

``await batch.submit(item)`` returns ``send(items)[i]`` for the group ``item`` joined.
A call made while fewer than ``max_inflight`` sends are under way starts a send, which
also takes the calls made in the same event-loop pass (the send's task runs after the
callbacks already queued in that pass). Calls made while ``max_inflight`` sends are
under way wait and leave together, up to ``max_batch`` per send, when one returns. Idle,
a call costs one round trip and no added latency; under load one round trip (one
connection checkout, one write, one read) serves a whole group. The accept path's rate
limit check and insert both use it: the system calls to write and read a socket were
most of what those two cost per request.

``linger`` (seconds, default 0) is for writes nobody waits on to answer a client (the
worker's archive keys): a group then waits that long for company before it is sent, so
a steady trickle of calls shares sends too, at the price of that much delay per call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
SendBatch = Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]]


class GroupCommit(Generic[Item, Result]):
    """Coalesce concurrent ``submit`` calls into calls of ``send`` (see module docstring).

    ``send`` returns one entry per item: its result, or an exception for that item alone.
    An exception raised by ``send`` goes to every caller of that group.
    """

    def __init__(
        self,
        send: SendBatch[Item, Result],
        *,
        max_batch: int,
        max_inflight: int = 1,
        linger: float = 0.0,
    ):
        self._send = send
        self._max_batch = max(1, max_batch)
        self._max_inflight = max(1, max_inflight)
        self._linger = max(0.0, linger)
        # Set when a lingering group fills up: it leaves at once.
        self._full: asyncio.Event | None = None
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        # The loop keeps only weak references to tasks.
        self._sending: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Join the next group and wait for this item's result (or raise its error)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        starts_a_group = not self._waiting
        self._waiting.append((item, future))
        if self._full is not None and len(self._waiting) >= self._max_batch:
            self._full.set()
        # The first call of a group starts a sender if a slot is free; the others join it,
        # and a busy sender picks up what waits before it finishes.
        if starts_a_group and len(self._sending) < self._max_inflight:
            task = asyncio.get_running_loop().create_task(self._send_waiting())
            self._sending.add(task)
        return await future

    async def _send_waiting(self) -> None:
        # Each task sends groups until nothing waits: calls made while every slot was
        # busy are picked up here, not left behind.
        try:
            if self._linger and len(self._waiting) < self._max_batch:
                await self._linger_for_company()
            while self._waiting:
                group = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                # A caller gone before the send (cancelled) must not have its write made.
                group = [(item, future) for item, future in group if not future.done()]
                if group:
                    await self._send_group(group)
        except asyncio.CancelledError:
            if len(self._sending) <= 1:  # the last sender: nobody would send what waits
                for _, future in self._waiting:
                    future.cancel()
                self._waiting.clear()
            raise
        finally:
            # Here, not in a done callback: that runs a pass later, and a call made in
            # between would count this finished task as busy and wait forever.
            self._sending.discard(asyncio.current_task())

    async def _linger_for_company(self) -> None:
        """Wait ``linger`` seconds, or less if the group fills up meanwhile."""
        self._full = full = asyncio.Event()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._linger):
                    await full.wait()
        finally:
            self._full = None

    async def _send_group(self, group: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._send([item for item, _ in group])
        except asyncio.CancelledError:
            for _, future in group:
                future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 -- handed to every caller, which raises it
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(group, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
