"""The Lambda entry point: SQS event batches with partial batch failure reporting.

The same function also runs the worker's maintenance pass (``app.worker.runtime.sweep``:
close abandoned rows, re-send lost messages) when its EventBridge schedule invokes it
with ``{"agatha": "maintenance"}`` (components/compute_worker.py); without it nothing
would sweep in production, where no poller runs.

Records are processed concurrently on one event loop that lives as long as the Lambda
execution environment (so database pools and AWS clients are reused across invocations);
the verdicts are then reported through aws-lambda-powertools' BatchProcessor, which
builds the ``batchItemFailures`` response the SQS event source mapping expects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from app.tracing import TRACEPARENT, WORKER_SERVICE, configure_tracing, flush_tracing
from app.worker.core import WorkerCore
from app.worker.errors import JobNotAcknowledged
from app.worker.messages import JobMessage, JobResult, sent_at_from_millis

if TYPE_CHECKING:
    from app.worker.runtime import WorkerRuntime

CoreFactory = Callable[[], Awaitable[WorkerCore]]
Maintenance = Callable[[], Awaitable[dict[str, int]]]
# The constant input the schedule sends (an EventBridge target's ``input``).
MAINTENANCE_EVENT = {"agatha": "maintenance"}


def job_from_record(record: dict[str, Any]) -> JobMessage:
    """A JobMessage from one SQS event record (Lambda's camelCase shape)."""
    attributes = record.get("attributes", {})
    traceparent = record.get("messageAttributes", {}).get(TRACEPARENT, {})
    return JobMessage(
        message_id=record["messageId"],
        body=record["body"],
        receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
        sent_at=sent_at_from_millis(attributes.get("SentTimestamp")),
        traceparent=traceparent.get("stringValue"),
    )


class LambdaWorker:
    """Owns the event loop and the lazily built core of one execution environment."""

    def __init__(self, build_core: CoreFactory, maintenance: Maintenance | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._build_core = build_core
        self._core: WorkerCore | None = None
        self._maintenance = maintenance

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Process the batch; failed records go back to the queue via batchItemFailures."""
        if event == MAINTENANCE_EVENT:
            if self._maintenance is None:
                raise RuntimeError("maintenance event received but no maintenance task is set")
            return dict(self._loop.run_until_complete(self._maintenance()))
        results = self._loop.run_until_complete(self._process(event.get("Records", [])))
        # The environment may freeze right after the return: hand the spans over now.
        flush_tracing()

        def record_handler(record: SQSRecord) -> str:
            result = results[record.message_id]
            if not result.outcome.ack:
                raise JobNotAcknowledged(f"{result.outcome.value}: {result.reason}")
            return result.outcome.value

        # All-failed batches are reported like partial ones: raising would only add noise.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )

    async def _process(self, records: list[dict[str, Any]]) -> dict[str, JobResult]:
        if self._core is None:
            self._core = await self._build_core()
        jobs = [job_from_record(record) for record in records]
        results = await asyncio.gather(*(self._core.process(job) for job in jobs))
        return {job.message_id: result for job, result in zip(jobs, results, strict=True)}

    def run(self, coro: Awaitable[Any]) -> Any:
        """Run a coroutine on this worker's loop (tests, shutdown hooks)."""
        return self._loop.run_until_complete(coro)

    def close(self) -> None:
        self._loop.close()


class _SettingsRuntime:
    """The runtime built once from the environment, shared by jobs and maintenance."""

    def __init__(self) -> None:
        self._runtime: WorkerRuntime | None = None

    async def get(self) -> WorkerRuntime:
        if self._runtime is None:
            from app.logging import configure_logging
            from app.settings import get_settings
            from app.worker.config import get_worker_settings
            from app.worker.runtime import build_runtime, tune_gc

            settings, worker = get_settings(), get_worker_settings()
            configure_logging(settings.log_level)
            configure_tracing(default_service=WORKER_SERVICE)
            runtime = await build_runtime(settings, worker)
            # Warm invocations of this environment reuse the heap built here.
            tune_gc(runtime, worker)
            self._runtime = runtime
        return self._runtime

    async def core(self) -> WorkerCore:
        return (await self.get()).core

    async def sweep(self) -> dict[str, int]:
        from app.worker.runtime import sweep

        return await sweep(await self.get())


@lru_cache(maxsize=1)
def _lambda_worker() -> LambdaWorker:
    # Lambda keeps module state between invocations of one environment: build once, lazily.
    runtime = _SettingsRuntime()
    return LambdaWorker(runtime.core, maintenance=runtime.sweep)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda handler (``app.worker.lambda_handler.handler``)."""
    return _lambda_worker().handle(event, context)
