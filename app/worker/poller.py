"""Long-polling SQS loops with bounded concurrency, visibility heartbeat and graceful stop.

``concurrency`` (WORKER_CONCURRENCY) bounds the provider calls in flight
(app/worker/calls.py); the store, archive and notification after a call (and, under
WORKER_INTERRUPTED_CALLS=retry, the claim before it) run outside that bound, so the
poller holds up to ``FINISHING_PER_CALL`` x ``concurrency`` more jobs in those phases,
plus ``prefetch`` received messages waiting for a call slot: a freed slot starts the
next job at once and never more than ``concurrency`` calls run. Under ``fail`` (the
default) a job claims its row once it holds a slot, since that statement also marks the
call as started; a message waiting for a slot is then not yet claimed, and comes back
through the queue if the worker dies.

One ReceiveMessage returns at most 10 messages and takes a round trip, so one loop cannot
keep many slots busy: one receive loop per 10 held messages runs side by side, each
reserving a full batch of free slots (10, or what is free after a 30 ms window) before it
asks SQS. Asking as soon as one slot frees would make one receive per job (each a round
trip and the emulator's ~2.5 ms). Deletes of settled messages go out in batches
(app/worker/deletes.py).

On stop (SIGTERM) the poller receives nothing more, hands back at once every message whose
provider call has not started (visibility 0, its row released), lets in-flight jobs finish
for up to ``shutdown_grace`` seconds, then cancels the rest: the core hands their rows
back (pending) and the poller makes their messages visible again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from app.tracing import TRACEPARENT
from app.worker.calls import ProviderCalls
from app.worker.core import WorkerCore
from app.worker.deletes import DeleteBatcher
from app.worker.messages import JobMessage, JobResult, Outcome, sent_at_from_millis

MAX_SQS_BATCH = 10
MAX_VISIBILITY_SECONDS = 43_200  # SQS's upper bound (12 hours)
RECEIVE_ERROR_PAUSE_SECONDS = 2.0
# How long a receive loop waits for a full batch of free slots before asking for fewer.
BATCH_WINDOW = 0.03
SYSTEM_ATTRIBUTES = ["ApproximateReceiveCount", "SentTimestamp"]
# Jobs before or past their provider call (claiming, storing, archiving, notifying) held
# per call slot, so a job waiting on those round trips never keeps the next call from
# starting. 2 measured no faster than 1 (more receive loops, smaller receives).
FINISHING_PER_CALL = 1

DoneHook = Callable[[JobResult], None]


def _ignore(result: JobResult) -> None:
    """Default done hook."""


def job_from_sqs(message: dict[str, Any]) -> JobMessage:
    """A JobMessage from a ReceiveMessage entry."""
    attributes = message.get("Attributes", {})
    traceparent = message.get("MessageAttributes", {}).get(TRACEPARENT, {})
    return JobMessage(
        message_id=message["MessageId"],
        body=message["Body"],
        receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
        sent_at=sent_at_from_millis(attributes.get("SentTimestamp")),
        traceparent=traceparent.get("StringValue"),
    )


class Poller:
    """Feeds SQS messages to the core, at most ``concurrency`` at a time."""

    def __init__(
        self,
        *,
        core: WorkerCore,
        sqs: Any,
        queue_url: str,
        concurrency: int,
        wait_seconds: int = 20,
        shutdown_grace: float = 25.0,
        visibility_seconds: int | None = None,
        prefetch: int = 0,
        on_done: DoneHook = _ignore,
    ) -> None:
        self._core = core
        # The poller's own visibility (kept alive by the heartbeat): a dead worker's jobs come
        # back after this, not after the queue default sized for the Lambda (6x its timeout).
        self._visibility = {"VisibilityTimeout": visibility_seconds} if visibility_seconds else {}
        self._sqs = sqs
        self._queue_url = queue_url
        self._concurrency = concurrency
        # Received messages wait at most one job's duration for a slot: far inside their
        # visibility, and a stop hands them back like any cancelled job.
        self._prefetch = prefetch
        self._wait_seconds = wait_seconds
        self._shutdown_grace = shutdown_grace
        self._on_done = on_done
        self._log = structlog.get_logger("app.worker.poller")

    @property
    def held(self) -> int:
        """Messages held at most: calls in flight, jobs claiming or finishing, prefetch."""
        return (1 + FINISHING_PER_CALL) * self._concurrency + self._prefetch

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set, then finish or release what is in flight."""
        inflight: set[asyncio.Task[None]] = set()
        slots = SlotPool(self.held, batch=MAX_SQS_BATCH)
        deletes = DeleteBatcher(self._sqs, self._queue_url)
        lane = _Lane(ProviderCalls(self._concurrency, stop=stop), deletes, stop)
        refusing = asyncio.create_task(lane.calls.refuse_waiters_on_stop())
        loops = [
            asyncio.create_task(self._receive_loop(slots, lane, inflight))
            for _ in range(math.ceil(self.held / MAX_SQS_BATCH))
        ]
        try:
            await asyncio.gather(*loops)
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self._drain(inflight)
            refusing.cancel()
            await asyncio.gather(refusing, return_exceptions=True)
            await deletes.aclose()

    async def _receive_loop(
        self,
        slots: SlotPool,
        lane: _Lane,
        inflight: set[asyncio.Task[None]],
    ) -> None:
        stop = lane.stop
        while not stop.is_set():
            count = slots.take()
            if count == 0:
                # Give a partial batch a short window to fill, then take what is free.
                await _wait_for(slots.batch_free(), stop, BATCH_WINDOW)
                count = slots.take(partial=True)
            if count == 0:
                await _wait_for(slots.freed(), stop)
                continue
            messages: list[dict[str, Any]] = []
            try:
                messages = await self._receive(count, stop)
            finally:
                slots.give(count - len(messages))
            for message in messages:
                task = asyncio.create_task(self._handle(message, lane))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
                task.add_done_callback(lambda _: slots.give(1))

    async def _receive(self, count: int, stop: asyncio.Event) -> list[dict[str, Any]]:
        receive = asyncio.ensure_future(
            self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=self._wait_seconds,
                MessageSystemAttributeNames=SYSTEM_ATTRIBUTES,
                MessageAttributeNames=[TRACEPARENT],
                **self._visibility,
            )
        )
        await _first_of([receive], stop)
        if not receive.done():
            # Messages a cancelled receive may have taken reappear after their visibility.
            receive.cancel()
            await asyncio.gather(receive, return_exceptions=True)
            return []
        try:
            response = receive.result()
        except (BotoCoreError, ClientError) as exc:
            self._log.error("poller.receive_failed", error=str(exc))
            await _wait_or_stop(stop, RECEIVE_ERROR_PAUSE_SECONDS)
            return []
        return list(response.get("Messages", []))

    async def _handle(self, message: dict[str, Any], lane: _Lane) -> None:
        job = job_from_sqs(message)
        receipt = message["ReceiptHandle"]

        async def extend(seconds: int) -> None:
            await self._set_visibility(receipt, seconds)

        try:
            if lane.stop.is_set():
                # Received but not started before the stop: hand it straight back
                # (if that fails it returns after its visibility timeout).
                with contextlib.suppress(BotoCoreError, ClientError):
                    await self._set_visibility(receipt, 0)
                return
            result = await self._core.process(job, extend_visibility=extend, calls=lane.calls)
        except asyncio.CancelledError:
            await asyncio.shield(self._set_visibility(receipt, 0))
            raise
        if result.outcome.ack:
            lane.deletes.add(receipt)
        else:
            await self._settle(receipt, result)
        self._on_done(result)

    async def _settle(self, receipt: str, result: JobResult) -> None:
        """Hand back a message that is not done: dead-letter it now or retry it later."""
        try:
            if result.outcome is Outcome.DEAD_LETTER:
                # Visible now: the next receive exceeds maxReceiveCount and SQS dead-letters it.
                await self._set_visibility(receipt, 0)
            elif result.retry_after is not None:
                await self._set_visibility(receipt, int(result.retry_after))
        except (BotoCoreError, ClientError) as exc:
            # The message comes back after its visibility timeout; the claim absorbs the repeat.
            self._log.error("poller.settle_failed", request_id=result.request_id, error=str(exc))

    async def _set_visibility(self, receipt: str, seconds: int) -> None:
        await self._sqs.change_message_visibility(
            QueueUrl=self._queue_url,
            ReceiptHandle=receipt,
            VisibilityTimeout=max(0, min(MAX_VISIBILITY_SECONDS, seconds)),
        )

    async def _drain(self, inflight: set[asyncio.Task[None]]) -> None:
        if not inflight:
            return
        self._log.info("poller.draining", inflight=len(inflight))
        _, pending = await asyncio.wait(set(inflight), timeout=self._shutdown_grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._log.info("poller.stopped", released=len(pending))


@dataclass(frozen=True)
class _Lane:
    """What every job task of one ``run`` shares: the provider-call bound, deletes, stop."""

    calls: ProviderCalls
    deletes: DeleteBatcher
    stop: asyncio.Event


class SlotPool:
    """Free job slots, reserved a whole batch at a time by the receive loops."""

    def __init__(self, total: int, *, batch: int = MAX_SQS_BATCH) -> None:
        self._free = total
        self._batch = max(1, min(batch, total))
        self._any = asyncio.Event()
        self._full = asyncio.Event()
        self._update()

    def take(self, *, partial: bool = False) -> int:
        """Reserve a full batch of slots (or, ``partial``, whatever is free up to one)."""
        taken = min(self._free, self._batch)
        if taken < self._batch and not partial:
            return 0
        self._free -= taken
        self._update()
        return taken

    def give(self, count: int) -> None:
        """Return slots (a job finished, or a receive brought fewer messages than asked)."""
        if count > 0:
            self._free += count
            self._update()

    def _update(self) -> None:
        for event, ready in ((self._any, self._free > 0), (self._full, self._free >= self._batch)):
            if ready:
                event.set()
            else:
                event.clear()

    async def freed(self) -> None:
        """Wait until some slot is free (another loop may take it first: take() again)."""
        await self._any.wait()

    async def batch_free(self) -> None:
        """Wait until a full batch of slots is free."""
        await self._full.wait()


async def _first_of(
    tasks: list[asyncio.Future[Any]], stop: asyncio.Event, timeout: float | None = None
) -> None:
    """Wait until any of ``tasks`` finishes, ``stop`` is set or ``timeout`` passes."""
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([*tasks, stopper], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        await asyncio.gather(stopper, return_exceptions=True)


async def _wait_for(
    event: Coroutine[Any, Any, None], stop: asyncio.Event, timeout: float | None = None
) -> None:
    """Wait for ``event`` (a wait on the slot pool), ``stop`` or ``timeout``, whichever first."""
    waiter = asyncio.ensure_future(event)
    try:
        await _first_of([waiter], stop, timeout)
    finally:
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)


async def _wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM (ECS, Kubernetes) and SIGINT (Ctrl-C) set ``stop`` instead of killing jobs."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
