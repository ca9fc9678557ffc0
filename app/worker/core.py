"""Process one delivery: claim -> (cancelled? skip) -> provider -> store -> archive -> usage.

Exactly-once effect over at-least-once delivery comes from the claim (a conditional
UPDATE with a lease): a duplicate delivery or a second worker finds the row taken and
never calls the provider. The usage row is written in the transaction that completes the
request; the archive is written after, and a later delivery of a completed-but-unarchived
request only writes the archive.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from app import tracing
from app.archive.errors import ArchiveWriteFailed
from app.archive.s3 import Archiver, ArchiveRecord
from app.db.models import TERMINAL_STATUSES, RequestStatus
from app.notify import Notifier, NullNotifier
from app.providers.base import Completion, CompletionRequest
from app.providers.errors import PermanentProviderError, RetryableProviderError
from app.providers.registry import ProviderRegistry
from app.providers.retry import Jitter, Sleep, complete_with_fallback
from app.usage.prices import PriceTable
from app.usage.recorder import build_usage
from app.worker.calls import CallSlot, NotStarted, ProviderCalls
from app.worker.config import WorkerConfig
from app.worker.errors import MalformedJobMessage
from app.worker.messages import JobMessage, JobRef, JobResult, Outcome, parse_job_body
from app.worker.metrics import WorkerMetrics
from app.worker.store import STORE_ERRORS, ClaimedJob, Clock, JobStore, utc_now

ExtendVisibility = Callable[[int], Awaitable[None]]

# Requeue delay after a release when the provider gave no Retry-After: grows per delivery.
# A database restart takes seconds; ~15 s of retries stays well inside the lease.
PERSIST_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
DB_WRITE_ERRORS = STORE_ERRORS
REQUEUE_BASE_SECONDS = 10.0
REQUEUE_MAX_SECONDS = 900.0
# The error of a request whose call a dead worker had in flight (WORKER_INTERRUPTED_CALLS=fail).
INTERRUPTED = "worker_interrupted"
INTERRUPTED_MESSAGE = (
    "a worker stopped while this request's provider call was in flight; the call was not "
    "made again so the provider is not paid twice (WORKER_INTERRUPTED_CALLS=fail): submit "
    "the prompt again"
)


@dataclass(frozen=True)
class WorkerDeps:
    """What the core talks to; built once per process by app.worker.runtime."""

    store: JobStore
    registry: ProviderRegistry
    archiver: Archiver | None
    prices: PriceTable
    metrics: WorkerMetrics
    config: WorkerConfig
    owner: str
    sleep: Sleep = asyncio.sleep
    jitter: Jitter = random.random
    clock: Clock = field(default=utc_now)
    # Wakes long-polls waiting on a request once its row is terminal.
    notifier: Notifier = field(default_factory=NullNotifier)


class WorkerCore:
    """Turns one delivery into a JobResult; safe to run many deliveries concurrently."""

    def __init__(self, deps: WorkerDeps) -> None:
        self._d = deps
        self._log = structlog.get_logger("app.worker").bind(worker=deps.owner)

    @property
    def metrics(self) -> WorkerMetrics:
        return self._d.metrics

    @property
    def config(self) -> WorkerConfig:
        return self._d.config

    @property
    def registry(self) -> ProviderRegistry:
        return self._d.registry

    @property
    def archiver(self) -> Archiver | None:
        return self._d.archiver

    @property
    def store(self) -> JobStore:
        return self._d.store

    async def process(
        self,
        message: JobMessage,
        *,
        extend_visibility: ExtendVisibility | None = None,
        calls: ProviderCalls | None = None,
    ) -> JobResult:
        """Handle one delivery end to end; never raises except on cancellation.

        ``calls`` bounds the provider call alone (the poller's WORKER_CONCURRENCY); None
        leaves it unbounded (the Lambda worker, whose batch size is the bound).
        """
        self._observe_lag(message)
        ref: JobRef | None = None
        with tracing.job_span(message.traceparent, message_id=message.message_id):
            try:
                ref = parse_job_body(message.body)
                tracing.set_attributes(request_id=ref.request_id)
                result = await self._process(ref, message, extend_visibility, calls)
            except MalformedJobMessage as exc:
                self._log.error("job.malformed", message_id=message.message_id, error=str(exc))
                result = JobResult(Outcome.SKIPPED, None, reason="malformed_message")
            except Exception as exc:  # noqa: BLE001 -- edge of one job: _unexpected logs it
                result = await self._unexpected(ref, message, exc)
            tracing.set_attributes(outcome=result.outcome.value, reason=result.reason or None)
        self._d.metrics.processed.labels(outcome=result.outcome.value).inc()
        return result

    async def _process(
        self,
        ref: JobRef,
        message: JobMessage,
        extend_visibility: ExtendVisibility | None,
        calls: ProviderCalls | None,
    ) -> JobResult:
        slot = CallSlot(calls)
        try:
            return await self._claim_and_run(ref, message, extend_visibility, slot)
        finally:
            slot.release()

    async def _claim_and_run(
        self,
        ref: JobRef,
        message: JobMessage,
        extend_visibility: ExtendVisibility | None,
        slot: CallSlot,
    ) -> JobResult:
        """Claim the row and run its call (WORKER_INTERRUPTED_CALLS decides the order).

        ``retry``: claim, then wait for a call slot. ``fail``: the slot first, then one
        statement claims the row and marks its call as started, so a worker that dies
        from then on leaves a row the next claim fails as ``worker_interrupted``. A job
        refused its slot at stop was never claimed: the message simply goes back.
        """
        marked = not self._d.config.repeat_interrupted_calls
        if marked:
            try:
                await self._wait_for_slot(slot, ref.request_id, extend_visibility)
            except NotStarted:
                return JobResult(Outcome.RETRY, ref.request_id, retry_after=0, reason="stopping")
        job = await self._claim(ref.request_id, calling=marked)
        if job is None:
            slot.release()
            return await self._not_claimed(ref.request_id)
        if job.interrupted and marked:
            slot.release()
            return await self._fail(job, INTERRUPTED, INTERRUPTED_MESSAGE, Outcome.FAILED)
        async with self._heartbeat(job.id, extend_visibility):
            return await self._run(job, message, slot, marked=marked)

    async def _wait_for_slot(
        self, slot: CallSlot, request_id: str, extend_visibility: ExtendVisibility | None
    ) -> None:
        """Take the call slot before the claim (``fail``), keeping the message invisible.

        No row is held yet, so only the message's visibility is renewed: a wait longer than
        it (every slot busy with long calls and retries) would otherwise deliver the
        message again, to no use, and bring it nearer the dead-letter queue.
        """
        if slot.free:
            await slot.acquire()
            return
        async with self._heartbeat(request_id, extend_visibility, lease=False):
            await slot.acquire()

    async def _claim(self, request_id: str, *, calling: bool) -> ClaimedJob | None:
        """The claim, carried through a cancellation of this job (the end of the grace).

        A claim statement already sent commits whether or not anyone waits for it: a job
        cancelled meanwhile waits for it and hands back the row it took, so the row is
        not left owned (and, under ``fail``, marked as calling: the next claim would fail
        it as interrupted although no call was made).
        """
        claiming = asyncio.ensure_future(
            self._d.store.claim(
                request_id,
                owner=self._d.owner,
                lease_seconds=self._d.config.lease_seconds,
                calling=calling,
            )
        )
        try:
            return await asyncio.shield(claiming)
        except asyncio.CancelledError:
            with suppress(Exception):
                job = await claiming
                if job is not None:
                    await self._d.store.release(job.id, owner=self._d.owner)
            raise

    async def _not_claimed(self, request_id: str) -> JobResult:
        state = await self._d.store.state(request_id)
        if state is None:
            self._log.warning("job.not_found", request_id=request_id)
            return JobResult(Outcome.SKIPPED, request_id, reason="not_found")
        if state.status == RequestStatus.COMPLETED and state.archive_key is None:
            archived = await self._archive(request_id)
            outcome = Outcome.SKIPPED if archived else Outcome.RETRY
            return JobResult(outcome, request_id, reason="archive_only")
        if state.status in TERMINAL_STATUSES:
            # Cancelled before pickup, or a duplicate of a finished job: no provider call.
            return JobResult(Outcome.SKIPPED, request_id, reason=f"already_{state.status}")
        wait = self._lease_remaining(state.lease_expires_at)
        self._log.info("job.claimed_elsewhere", request_id=request_id, status=state.status)
        return JobResult(Outcome.RETRY, request_id, retry_after=wait, reason="claimed_elsewhere")

    def _lease_remaining(self, expires_at: datetime | None) -> float:
        if expires_at is None:
            return 1.0
        return max(1.0, (expires_at - self._d.clock()).total_seconds())

    async def _run(
        self, job: ClaimedJob, message: JobMessage, slot: CallSlot, *, marked: bool
    ) -> JobResult:
        """The provider call in its slot (held already when ``marked``), then the result."""
        try:
            request = CompletionRequest.from_parameters(
                model=job.model, prompt=job.prompt, parameters=job.parameters
            )
        except Exception:
            # No call was made: the row goes back unmarked, not failed as interrupted later
            # (the original error goes on even if the database refuses the release).
            with suppress(*DB_WRITE_ERRORS):
                await asyncio.shield(self._d.store.release(job.id, owner=self._d.owner))
            raise
        tracing.set_attributes(model=job.model)
        try:
            await slot.acquire()
            started = time.monotonic()
            try:
                completion = await self._call(job, request)
            finally:
                slot.release()
        except NotStarted:
            # Stopping while this job waited for a call slot: the row goes back untouched.
            await asyncio.shield(self._d.store.release(job.id, owner=self._d.owner))
            return JobResult(Outcome.RETRY, job.id, retry_after=0, reason="stopping")
        except PermanentProviderError as exc:
            return await self._fail(job, exc.code, exc.message, Outcome.FAILED)
        except RetryableProviderError as exc:
            return await self._retry_or_dead_letter(job, message, exc)
        except asyncio.CancelledError:
            # Shutdown: hand the row back so the next delivery can claim it at once, or,
            # when interrupted calls are not repeated (the row says its call started), close it.
            if marked:
                await asyncio.shield(
                    self._fail(job, INTERRUPTED, INTERRUPTED_MESSAGE, Outcome.FAILED)
                )
            else:
                await asyncio.shield(self._d.store.release(job.id, owner=self._d.owner))
            raise
        elapsed = time.monotonic() - started
        tracing.set_attributes(provider=completion.provider)
        self._d.metrics.provider_latency.labels(provider=completion.provider).observe(elapsed)
        return await self._finish(job, completion, processing_ms=int(elapsed * 1000))

    async def _call(self, job: ClaimedJob, request: CompletionRequest) -> Completion:
        """The provider call with its retries and fallbacks (in one provider-call slot)."""
        with tracing.span("provider.complete", {"agatha.model": job.model}):
            completion = await complete_with_fallback(
                self._d.registry,
                request,
                fallbacks=self._d.config.fallbacks.get(job.model, ()),
                timeout=self._d.config.provider_timeout,
                policy=self._d.config.retry,
                sleep=self._d.sleep,
                jitter=self._d.jitter,
                on_retry=self._on_retry,
            )
            tracing.set_attributes(provider=completion.provider)
        return completion

    def _on_retry(self, error: RetryableProviderError, attempt: int, delay: float) -> None:
        self._d.metrics.retried.labels(provider=error.provider, error_code=error.code).inc()
        self._log.warning(
            "provider.retry",
            provider=error.provider,
            error_code=error.code,
            status=error.status,
            attempt=attempt,
            delay_s=round(delay, 3),
        )

    async def _finish(
        self, job: ClaimedJob, completion: Completion, *, processing_ms: int
    ) -> JobResult:
        usage = build_usage(
            request_id=job.id,
            tenant_id=job.tenant_id,
            model=completion.model,
            provider=completion.provider,
            tokens_in=completion.tokens_in,
            tokens_out=completion.tokens_out,
            latency_ms=processing_ms,
            at=self._d.clock(),
            prices=self._d.prices,
        )
        values = {
            "response": completion.text,
            "tokens_in": completion.tokens_in,
            "tokens_out": completion.tokens_out,
            "provider": completion.provider,
            "processing_ms": processing_ms,
        }
        persisting = time.monotonic()
        completed = await self._persist(
            lambda: self._d.store.complete(
                job.id, owner=self._d.owner, values=values, usage=usage, at=usage.created_at
            ),
            request_id=job.id,
        )
        if not completed:
            self._log.warning("job.lease_lost", request_id=job.id)
            return JobResult(Outcome.SKIPPED, job.id, reason="lease_lost")
        persist_ms = int((time.monotonic() - persisting) * 1000)
        # The notification goes out while the archive is written, not before it: each
        # round trip of a job costs it a loop pass or two (tens of ms on a busy worker).
        announced = asyncio.create_task(self._announce(job.id))
        self._log.info(
            "job.completed",
            request_id=job.id,
            tenant_id=job.tenant_id,
            model=completion.model,
            provider=completion.provider,
            tokens_in=completion.tokens_in,
            tokens_out=completion.tokens_out,
            processing_ms=processing_ms,
            # Storing the answer (and its usage row): a slow database shows here first.
            persist_ms=persist_ms,
        )
        try:
            return await self._archive_finished(job, completion, values, usage.created_at)
        finally:
            await announced

    async def _archive_finished(
        self, job: ClaimedJob, completion: Completion, values: dict[str, Any], at: datetime
    ) -> JobResult:
        """Archive a job just completed at ``at``: COMPLETED, or RETRY while S3 refuses."""
        if self._d.archiver is not None:
            # Everything the archive holds is in hand: no read of the row just written.
            record = finished_record(job, completion, values, completed_at=at)
            if not await self._put_archive(self._d.archiver, record):
                return JobResult(Outcome.RETRY, job.id, reason="archive_pending")
        return JobResult(Outcome.COMPLETED, job.id)

    async def _persist(self, write: Callable[[], Awaitable[bool]], *, request_id: str) -> bool:
        """Store a provider's answer, riding out a short database outage.

        The answer has been paid for: giving up here means the next delivery calls the
        provider again. The heartbeat keeps the lease while this waits.
        """
        for delay in PERSIST_RETRY_DELAYS:
            try:
                return await write()
            except DB_WRITE_ERRORS as exc:
                self._log.warning(
                    "job.persist_retry", request_id=request_id, error_type=type(exc).__name__
                )
                await self._d.sleep(delay)
        return await write()

    async def _archive(self, request_id: str) -> bool:
        """Write the archive object of a completed request; False when S3 refused it."""
        if self._d.archiver is None:
            return True
        row = await self._d.store.finished_row(request_id)
        if row is None:
            return True
        record = ArchiveRecord(
            request_id=row.id,
            tenant_id=row.tenant_id,
            model=row.model,
            provider=row.provider,
            prompt=row.prompt,
            parameters=row.parameters,
            response=row.response,
            created_at=row.created_at,
            completed_at=row.completed_at,
            metadata=row.metadata,
        )
        return await self._put_archive(self._d.archiver, record)

    async def _put_archive(self, archiver: Archiver, record: ArchiveRecord) -> bool:
        """Put ``record`` and note its key on the row; False when S3 refused it."""
        try:
            key = await archiver.put(record)
        except ArchiveWriteFailed as exc:
            self._log.error("archive.failed", request_id=record.request_id, error=str(exc))
            return False
        await self._d.store.set_archived(record.request_id, archive_key=key)
        return True

    async def _announce(self, request_id: str) -> None:
        """Tell long-polls the row is terminal; best effort, never fails the job."""
        try:
            await self._d.notifier.publish_done(request_id)
        except Exception:  # noqa: BLE001 -- a lost notification only delays a long-poll
            self._log.exception("job.notify_failed", request_id=request_id)

    async def _fail(self, job: ClaimedJob, code: str, text: str, outcome: Outcome) -> JobResult:
        if await self._d.store.fail(
            job.id, owner=self._d.owner, error_code=code, error_message=text
        ):
            await self._announce(job.id)
        self._d.metrics.failed.labels(error_code=code).inc()
        self._log.warning("job.failed", request_id=job.id, error_code=code, error=text)
        return JobResult(outcome, job.id, reason=code)

    def _is_last_delivery(self, message: JobMessage) -> bool:
        return message.receive_count >= self._d.config.max_receive_count

    def _requeue_delay(self, message: JobMessage, retry_after: float | None) -> float:
        backoff = REQUEUE_BASE_SECONDS * 2 ** max(0, message.receive_count - 1)
        return max(retry_after or 0.0, min(REQUEUE_MAX_SECONDS, backoff))

    async def _retry_or_dead_letter(
        self, job: ClaimedJob, message: JobMessage, exc: RetryableProviderError
    ) -> JobResult:
        if self._is_last_delivery(message):
            text = f"{exc.message} (gave up after {message.receive_count} deliveries)"
            return await self._fail(job, exc.code, text, Outcome.DEAD_LETTER)
        await self._d.store.release(job.id, owner=self._d.owner)
        self._log.warning("job.requeued", request_id=job.id, error_code=exc.code)
        delay = self._requeue_delay(message, exc.retry_after)
        return JobResult(Outcome.RETRY, job.id, retry_after=delay, reason=exc.code)

    async def _unexpected(
        self, ref: JobRef | None, message: JobMessage, exc: Exception
    ) -> JobResult:
        request_id = ref.request_id if ref else None
        self._log.exception("job.error", request_id=request_id, message_id=message.message_id)
        if request_id is None or not self._is_last_delivery(message):
            delay = self._requeue_delay(message, None)
            return JobResult(Outcome.RETRY, request_id, retry_after=delay, reason="worker_error")
        try:
            await self._d.store.fail(
                request_id,
                owner=None,
                error_code="worker_error",
                error_message=f"the worker failed on the last delivery: {type(exc).__name__}",
            )
            await self._announce(request_id)
        except Exception:  # noqa: BLE001 -- the database may be what failed; DLQ keeps the job
            self._log.exception("job.fail_unrecorded", request_id=request_id)
        return JobResult(Outcome.DEAD_LETTER, request_id, reason="worker_error")

    def _observe_lag(self, message: JobMessage) -> None:
        if message.sent_at is not None:
            lag = (self._d.clock() - message.sent_at).total_seconds()
            self._d.metrics.queue_lag.observe(max(0.0, lag))

    @asynccontextmanager
    async def _heartbeat(
        self, request_id: str, extend_visibility: ExtendVisibility | None, *, lease: bool = True
    ) -> AsyncIterator[None]:
        """Keep the lease (``lease``) and the message's visibility alive while the job runs.

        The beating task starts once the job has run for one heartbeat. Most jobs end long
        before: a timer is all they cost, where a task per job cost CPU and a loop pass
        (waiting for the cancelled task) at the end of every job.
        """
        beats: list[asyncio.Task[None]] = []

        def start() -> None:
            beats.append(asyncio.create_task(self._beat(request_id, extend_visibility, lease)))

        timer = asyncio.get_running_loop().call_later(self._d.config.heartbeat_seconds, start)
        try:
            yield
        finally:
            timer.cancel()
            for task in beats:
                task.cancel()
            await asyncio.gather(*beats, return_exceptions=True)

    async def _beat(
        self, request_id: str, extend_visibility: ExtendVisibility | None, lease: bool
    ) -> None:
        """Extend now, then every heartbeat, until cancelled."""
        config = self._d.config
        while True:
            try:
                if lease:
                    await self._d.store.extend_lease(
                        request_id, owner=self._d.owner, lease_seconds=config.lease_seconds
                    )
                if extend_visibility is not None:
                    await extend_visibility(config.visibility_timeout_seconds)
            except Exception:  # noqa: BLE001 -- a missed beat is not fatal; logged, next retries
                self._log.exception("job.heartbeat_failed", request_id=request_id)
            await asyncio.sleep(config.heartbeat_seconds)


def finished_record(
    job: ClaimedJob, completion: Completion, values: dict[str, Any], *, completed_at: datetime
) -> ArchiveRecord:
    """The archive record of a job just completed, as ``JobStore.finished_row`` would read it."""
    return ArchiveRecord(
        request_id=job.id,
        tenant_id=job.tenant_id,
        model=job.model,
        provider=completion.provider,
        prompt=job.prompt,
        parameters=job.parameters,
        response=completion.text,
        created_at=job.created_at,
        completed_at=completed_at,
        metadata={
            "tokens_in": values["tokens_in"],
            "tokens_out": values["tokens_out"],
            "processing_ms": values["processing_ms"],
            "attempts": job.attempts,
        },
    )
