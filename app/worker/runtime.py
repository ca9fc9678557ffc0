"""Build the worker's parts from settings, and the poller's process entry point.

``python -m app.worker.runtime`` runs the long-polling worker (local use, ECS). With
nothing configured it uses the embedded defaults: SQLite, the in-process AWS emulator
and the local provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.archive.s3 import Archiver
from app.archive.signed_put import open_signed_put
from app.gc_tuning import tune_after_startup
from app.notify import Notifier, notifier_for
from app.providers.keys import ApiKeyResolver
from app.providers.registry import ProviderRegistry, default_factories
from app.settings import Settings, get_settings
from app.tracing import WORKER_SERVICE, configure_tracing, shutdown_tracing
from app.usage.prices import PriceTable, default_prices
from app.worker.config import WorkerConfig, WorkerSettings, get_worker_settings
from app.worker.core import WorkerCore, WorkerDeps
from app.worker.errors import WorkerMisconfigured
from app.worker.metrics import WorkerMetrics
from app.worker.poller import Poller, install_stop_signals
from app.worker.reaper import ReapPolicy, reap, requeue_stale, requeue_unarchived
from app.worker.store import JobStore, hot_connections

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer


def worker_owner_id() -> str:
    """A lease owner name unique per process: host, pid and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerRuntime:
    """The core plus the clients it was built on; ``aclose`` releases them."""

    core: WorkerCore
    sqs: Any
    queue_url: str | None
    stack: AsyncExitStack
    engine: AsyncEngine
    reap_policy: ReapPolicy
    # Providers with a key configured (their SDK adapters are imported before the freeze).
    keyed_providers: list[str] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.stack.aclose()


async def queue_attributes(sqs: Any, queue_url: str | None) -> dict[str, str]:
    """The job queue's attributes (redrive policy, retention); {} when unreadable."""
    if not queue_url:
        return {}
    try:
        attrs = await sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["RedrivePolicy", "MessageRetentionPeriod"]
        )
    except (BotoCoreError, ClientError):
        structlog.get_logger("app.worker").warning("worker.queue_attributes_unknown")
        return {}
    return dict(attrs.get("Attributes", {}))


def max_receive_count(attributes: dict[str, str], default: int) -> int:
    """The queue's redrive maxReceiveCount (the truth), else the configured value."""
    try:
        policy = json.loads(attributes.get("RedrivePolicy", "{}"))
        return int(policy.get("maxReceiveCount", default))
    except ValueError:
        return default


def reap_policy(attributes: dict[str, str], worker: WorkerSettings, receives: int) -> ReapPolicy:
    """Abandoned-row thresholds derived from the queue the rows' messages live on."""
    retention = int(attributes.get("MessageRetentionPeriod", 4 * 24 * 3600))
    return ReapPolicy(
        max_receive_count=receives,
        lease_grace=timedelta(seconds=worker.worker_visibility_timeout_seconds),
        pending_max_age=timedelta(seconds=retention),
        requeue_after=timedelta(seconds=worker.worker_requeue_pending_after_seconds),
    )


async def build_runtime(
    settings: Settings, worker: WorkerSettings, *, notifier: Notifier | None = None
) -> WorkerRuntime:
    """Engine, S3/SQS clients, provider registry and the core, ready to process jobs.

    ``notifier`` is shared with an in-process gateway (``agatha local up``); by default
    completions go out through Redis when configured, else nowhere.
    """
    from app.aws import aio_session, client_kwargs
    from app.db.engine import create_engine_for, resolve_database_url

    stack = AsyncExitStack()
    # The grouped statements get their own bare connections (app/worker/store.py); the
    # engine's pool keeps the rest of DATABASE_POOL_SIZE for the others.
    statements = hot_connections(settings.database_pool_size)
    engine = create_engine_for(
        resolve_database_url(settings),
        pool_size=max(1, settings.database_pool_size - statements),
        max_overflow=settings.database_max_overflow,
    )
    stack.push_async_callback(engine.dispose)
    session = aio_session()
    s3_kwargs = client_kwargs(settings)
    s3 = await stack.enter_async_context(session.create_client("s3", **s3_kwargs))
    # Receives long-poll for up to worker_poll_wait_seconds: the read timeout must outlast it.
    sqs_kwargs = client_kwargs(settings, read_timeout=worker.worker_poll_wait_seconds + 10)
    sqs = await stack.enter_async_context(session.create_client("sqs", **sqs_kwargs))
    keys = ApiKeyResolver.from_settings(settings)
    registry = ProviderRegistry(
        catalogue=settings.model_catalogue,
        factories=default_factories(keys=keys, base_urls=worker.base_urls()),
    )
    stack.push_async_callback(registry.aclose)
    if notifier is None:
        notifier = await notifier_for(settings)
        stack.push_async_callback(notifier.aclose)
    config = WorkerConfig.from_settings(worker)
    attributes = await queue_attributes(sqs, settings.queue_url)
    receives = max_receive_count(attributes, config.max_receive_count)
    archiver = None
    if settings.archive_bucket:
        signed_put = None
        if worker.archive_signed_put:
            signed_put = await open_signed_put(
                stack,
                session=session,
                s3_client=s3,
                client_kwargs=s3_kwargs,
                bucket=settings.archive_bucket,
            )
        archiver = Archiver(
            s3_client=s3,
            bucket=settings.archive_bucket,
            kms_key_id=worker.archive_kms_key_id,
            signed_put=signed_put,
        )
    store = JobStore(engine, connections=statements)
    stack.push_async_callback(store.aclose)
    deps = WorkerDeps(
        store=store,
        registry=registry,
        archiver=archiver,
        prices=PriceTable(default_prices()),
        metrics=WorkerMetrics(),
        config=replace(config, max_receive_count=receives),
        owner=worker_owner_id(),
        notifier=notifier,
    )
    return WorkerRuntime(
        core=WorkerCore(deps),
        sqs=sqs,
        queue_url=settings.queue_url,
        stack=stack,
        engine=engine,
        reap_policy=reap_policy(attributes, worker, receives),
        keyed_providers=keys.configured(),
    )


async def run_poller(settings: Settings, worker: WorkerSettings) -> None:
    """Poll until SIGTERM/SIGINT, then shut down gracefully."""
    if not settings.queue_url:
        raise WorkerMisconfigured("QUEUE_URL is not set; the poller needs the job queue URL")
    runtime = await build_runtime(settings, worker)
    tune_gc(runtime, worker)
    metrics = runtime.core.metrics
    metrics.gc_pauses.start()
    metrics_server = None
    stop = asyncio.Event()
    reaper = asyncio.create_task(
        reap_periodically(runtime, interval=worker.worker_reap_interval_seconds, stop=stop)
    )
    try:
        metrics_server = serve_metrics(worker, metrics)
        install_stop_signals(stop)
        await new_poller(runtime, settings.queue_url, worker).run(stop)
    finally:
        reaper.cancel()
        metrics.gc_pauses.stop()
        if metrics_server is not None:
            metrics_server.shutdown()
        await runtime.aclose()


def tune_gc(runtime: WorkerRuntime, worker: WorkerSettings) -> None:
    """Freeze the start-up heap out of garbage collection (GC_GEN0_THRESHOLD; 0 = off).

    First the SDK adapters that the catalogue routes to and that have a key configured
    are imported, so they are frozen too.
    """
    if worker.gc_gen0_threshold == 0:
        return
    adapters = runtime.core.registry.import_adapters(runtime.keyed_providers)
    tuning = tune_after_startup(worker.gc_gen0_threshold)
    if tuning is not None:
        structlog.get_logger("app.worker").info(
            "worker.gc_tuned",
            frozen_objects=tuning.frozen_objects,
            thresholds=list(tuning.thresholds),
            adapters=adapters,
        )


def new_poller(runtime: WorkerRuntime, queue_url: str, worker: WorkerSettings) -> Poller:
    """The poller of ``runtime`` configured from the worker settings."""
    return Poller(
        core=runtime.core,
        sqs=runtime.sqs,
        queue_url=queue_url,
        concurrency=worker.worker_concurrency,
        wait_seconds=worker.worker_poll_wait_seconds,
        shutdown_grace=worker.worker_shutdown_grace_seconds,
        visibility_seconds=worker.worker_visibility_timeout_seconds,
        prefetch=worker.worker_prefetch,
    )


async def reap_periodically(
    runtime: WorkerRuntime, *, interval: float, stop: asyncio.Event
) -> None:
    """Close abandoned rows every ``interval`` seconds until ``stop`` (0 disables)."""
    while interval > 0 and not stop.is_set():
        await sweep(runtime)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def sweep(runtime: WorkerRuntime) -> dict[str, int]:
    """One maintenance pass: close abandoned rows, re-send lost messages (of pending rows,
    and of completed rows whose archive copy is missing when the worker archives).

    The poller runs it every WORKER_REAP_INTERVAL_SECONDS; the Lambda worker runs it when
    its schedule (components/compute_worker.py) invokes it. Failures are logged and left
    for the next pass: a database or queue outage is reported by the job path already.
    """
    log = structlog.get_logger("app.worker")
    done = {"lease_expired": 0, "pending_expired": 0, "requeued": 0, "requeued_unarchived": 0}
    try:
        result = await reap(runtime.engine, runtime.reap_policy, now=datetime.now(UTC))
    except SQLAlchemyError as exc:
        log.warning("worker.reap_failed", error=type(exc).__name__)
    else:
        done |= asdict(result)
        if result.lease_expired or result.pending_expired:
            log.info("worker.reaped", **asdict(result))
    if runtime.queue_url:
        resends = [("requeued", requeue_stale, "worker.requeued_stale_pending")]
        archiver = runtime.core.archiver
        # While this worker's puts fail, a re-sent job would only fail again (and reach
        # the DLQ after its receives): the sweep waits for a put to succeed, or for
        # requeue_after to pass without a failure.
        holding = runtime.reap_policy.requeue_after.total_seconds()
        if archiver is not None and not archiver.failing(within=holding):
            resends.append(
                ("requeued_unarchived", requeue_unarchived, "worker.requeued_unarchived")
            )
        for key, resend, event in resends:
            try:
                done[key] = await resend(
                    runtime.engine,
                    runtime.sqs,
                    runtime.queue_url,
                    runtime.reap_policy,
                    now=datetime.now(UTC),
                )
            except (SQLAlchemyError, BotoCoreError, ClientError) as exc:
                log.warning("worker.requeue_failed", kind=key, error=type(exc).__name__)
            else:
                if done[key]:
                    log.warning(event, count=done[key])
    return done


def serve_metrics(worker: WorkerSettings, metrics: WorkerMetrics) -> WSGIServer | None:
    """Start the poller's Prometheus endpoint when WORKER_METRICS_PORT is set."""
    if not worker.worker_metrics_port:
        return None
    from prometheus_client import start_http_server

    server, _thread = start_http_server(
        worker.worker_metrics_port, addr=worker.worker_metrics_address, registry=metrics.registry
    )
    return server


def uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed (constraints.txt), else None: the stock loop.

    The poller is CPU-bound (docs/benchmarks.md); uvloop's C transports and scheduler
    cut its CPU per job by ~15% here. The Lambda entry point never runs this loop, and
    an image without uvloop still starts.
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main() -> None:
    """Process entry point of the poller."""
    from app.local_aws import embedded_aws
    from app.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    tracer_provider = configure_tracing(default_service=WORKER_SERVICE)
    try:
        with (
            embedded_aws(settings) as resolved,
            asyncio.Runner(loop_factory=uvloop_factory()) as runner,
        ):
            runner.run(run_poller(resolved, get_worker_settings()))
    finally:
        shutdown_tracing(tracer_provider)


if __name__ == "__main__":
    main()
