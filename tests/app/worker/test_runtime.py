"""The production wiring on the embedded defaults: SQLite, moto, the local provider."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.archive.errors import ArchiveWriteFailed
from app.archive.s3 import ArchiveRecord
from app.db.models import InferenceRequest, RequestStatus, Tenant
from app.local_aws import (
    DEFAULT_MAX_RECEIVE_COUNT,
    create_local_resources,
    with_local_resources,
)
from app.settings import Settings
from app.worker.config import WorkerSettings
from app.worker.messages import JobResult
from app.worker.poller import Poller
from app.worker.runtime import build_runtime
from tests.app.worker.worker_support import body_for


async def test_runtime_processes_a_local_echo_job_on_sqlite(
    aws_env: str, sqlite_url: str, migrated_db: Callable[[str], str]
) -> None:
    migrated_db(sqlite_url)
    base = Settings(
        database_url=sqlite_url, aws_endpoint_url=aws_env, together_api_key="tg-test-key"
    )
    prefix = f"rt-{uuid.uuid4().hex[:6]}"
    settings = with_local_resources(base, create_local_resources(base, prefix=prefix))
    engine = create_async_engine(sqlite_url)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(insert(Tenant).values(id="acme", name="Acme"))
        await conn.execute(
            insert(InferenceRequest).values(
                id="req_local",
                tenant_id="acme",
                model="local-echo",
                prompt="hello world",
                parameters={},
                status=RequestStatus.PENDING,
                created_at=now,
                updated_at=now,
                attempts=0,
            )
        )
    runtime = await build_runtime(settings, WorkerSettings(queue_max_receive_count=9))
    # The providers whose SDKs the poller imports before freezing its heap (tune_gc).
    assert "together" in runtime.keyed_providers
    stop, done = asyncio.Event(), []

    def on_done(result: JobResult) -> None:
        done.append(result)
        stop.set()

    try:
        # Read from the queue's redrive policy, not from the settings (9).
        assert runtime.core.config.max_receive_count == DEFAULT_MAX_RECEIVE_COUNT
        await runtime.sqs.send_message(
            QueueUrl=settings.queue_url, MessageBody=body_for("req_local", "acme")
        )
        poller = Poller(
            core=runtime.core,
            sqs=runtime.sqs,
            queue_url=str(settings.queue_url),
            concurrency=2,
            wait_seconds=1,
            on_done=on_done,
        )
        await asyncio.wait_for(poller.run(stop), timeout=30)
    finally:
        await runtime.aclose()
    async with engine.connect() as conn:
        table = InferenceRequest.__table__
        row = (await conn.execute(select(table).where(table.c.id == "req_local"))).mappings().one()
    await engine.dispose()
    assert row["status"] == RequestStatus.COMPLETED and row["provider"] == "local"
    # The archive object went out on the signed path (app/archive/signed_put.py).
    archiver = runtime.core.archiver
    assert archiver is not None and archiver.signed_put is not None
    assert (archiver.signed_put.stored, archiver.signed_put.declined) == (1, 0)
    assert row["archive_key"].startswith("archive/tenant=acme/date=")
    assert done[0].outcome.value == "completed"


@pytest.mark.parametrize(("pool_size", "statements", "engine_pool"), [(10, 6, 4), (32, 12, 20)])
async def test_runtime_splits_the_connection_budget_and_closes_the_statement_lease(
    aws_env: str, migrated_pg_url: str, pool_size: int, statements: int, engine_pool: int
) -> None:
    base = Settings(
        database_url=migrated_pg_url, aws_endpoint_url=aws_env, database_pool_size=pool_size
    )
    prefix = f"rt-{uuid.uuid4().hex[:6]}"
    settings = with_local_resources(base, create_local_resources(base, prefix=prefix))
    runtime = await build_runtime(settings, WorkerSettings())
    store = runtime.core.store
    try:
        # The grouped statements' connections come out of DATABASE_POOL_SIZE, not on top.
        assert runtime.engine.pool.size() == engine_pool  # type: ignore[attr-defined]
        answers = await asyncio.gather(
            *(
                store._fetch_sql("SELECT pg_backend_pid() AS pid, pg_sleep(0.1)", [])
                for _ in range(3 * statements)
            )
        )
        assert len({rows[0]["pid"] for rows in answers}) == statements
    finally:
        await runtime.aclose()
    with pytest.raises(ConnectionError, match="closed"):
        await store._fetch_sql("SELECT 1", [])


def test_poller_metrics_endpoint_serves_worker_counters() -> None:
    import socket

    import httpx

    from app.worker.metrics import WorkerMetrics
    from app.worker.runtime import serve_metrics

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics = WorkerMetrics()
    metrics.processed.labels(outcome="completed").inc()
    server = serve_metrics(WorkerSettings(worker_metrics_port=port), metrics)
    assert server is not None
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        server.shutdown()
        server.server_close()
    assert 'agatha_worker_jobs_processed_total{outcome="completed"} 1.0' in body


def test_poller_metrics_endpoint_is_off_by_default() -> None:
    from app.worker.metrics import WorkerMetrics
    from app.worker.runtime import serve_metrics

    assert serve_metrics(WorkerSettings(), WorkerMetrics()) is None


def test_lambda_maintenance_event_resends_a_lost_message(
    aws_env: str, sqlite_url: str, migrated_db: Callable[[str], str]
) -> None:
    """The schedule's {"agatha": "maintenance"} runs sweep(): a pending row whose
    message vanished gets it back, so does a completed row whose archive put never
    succeeded (the worker archives here); rows with a live message are left alone."""
    import json

    from app.worker.lambda_handler import MAINTENANCE_EVENT, LambdaWorker
    from app.worker.runtime import sweep

    migrated_db(sqlite_url)
    base = Settings(database_url=sqlite_url, aws_endpoint_url=aws_env)
    settings = with_local_resources(
        base, create_local_resources(base, prefix=f"mt-{uuid.uuid4().hex[:6]}")
    )
    _seed_sweep_rows(sqlite_url)
    holder: dict[str, object] = {}

    async def core() -> object:
        return holder["runtime"].core  # type: ignore[attr-defined]

    async def maintenance() -> dict[str, int]:
        return await sweep(holder["runtime"])  # type: ignore[arg-type]

    worker = LambdaWorker(core, maintenance=maintenance)  # type: ignore[arg-type]
    try:
        holder["runtime"] = runtime = worker.run(build_runtime(settings, WorkerSettings()))
        archiver = runtime.core.archiver
        assert archiver is not None and settings.archive_bucket
        # While this worker's archive puts fail, the unarchived row is held back.
        s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=aws_env)
        s3.delete_bucket(Bucket=settings.archive_bucket)
        with pytest.raises(ArchiveWriteFailed):
            worker.run(archiver.put(_archive_record()))
        held = worker.handle(dict(MAINTENANCE_EVENT), None)
        s3.create_bucket(Bucket=settings.archive_bucket)
        worker.run(archiver.put(_archive_record()))  # S3 writable again
        result = worker.handle(dict(MAINTENANCE_EVENT), None)
        received = worker.run(
            runtime.sqs.receive_message(QueueUrl=settings.queue_url, MaxNumberOfMessages=10)
        )
        worker.run(runtime.aclose())
    finally:
        worker.close()
    zero = {"lease_expired": 0, "pending_expired": 0}
    assert held == zero | {"requeued": 1, "requeued_unarchived": 0}
    assert result == zero | {"requeued": 0, "requeued_unarchived": 1}
    assert sorted(json.loads(m["Body"])["id"] for m in received["Messages"]) == [
        "req_lost",
        "req_unarchived",
    ]


async def test_a_failed_resend_leaves_the_other_resend_to_run(
    aws_env: str, sqlite_url: str, migrated_db: Callable[[str], str]
) -> None:
    """sweep() runs its two re-sends independently: when the queue refuses the stale
    pending row's message, the unarchived row's message is still sent, and the next
    pass re-sends the pending one."""
    from botocore.exceptions import ClientError

    from app.worker.runtime import sweep

    migrated_db(sqlite_url)
    base = Settings(database_url=sqlite_url, aws_endpoint_url=aws_env)
    settings = with_local_resources(
        base, create_local_resources(base, prefix=f"rs-{uuid.uuid4().hex[:6]}")
    )
    _seed_sweep_rows(sqlite_url)
    runtime = await build_runtime(settings, WorkerSettings())
    refusals: list[list[str]] = []

    def refuse_first_send(params: dict[str, Any], **_: object) -> None:
        # Stands in for SQS throttling one call (the cloud side, not our code).
        if not refusals:
            refusals.append([json.loads(e["MessageBody"])["id"] for e in params["Entries"]])
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
                "SendMessageBatch",
            )

    runtime.sqs.meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch", refuse_first_send
    )
    try:
        first = await sweep(runtime)
        second = await sweep(runtime)
        received = await runtime.sqs.receive_message(
            QueueUrl=settings.queue_url, MaxNumberOfMessages=10
        )
    finally:
        await runtime.aclose()
    zero = {"lease_expired": 0, "pending_expired": 0}
    # requeue_stale goes first and is the one refused; requeue_unarchived still ran.
    assert refusals == [["req_lost"]]
    assert first == zero | {"requeued": 0, "requeued_unarchived": 1}
    assert second == zero | {"requeued": 1, "requeued_unarchived": 0}
    ids = [json.loads(m["Body"])["id"] for m in received["Messages"]]
    assert sorted(ids) == ["req_lost", "req_unarchived"]  # each sent once


def _seed_sweep_rows(sqlite_url: str) -> None:
    """A pending row whose message was lost, a fresh pending row, and a completed row
    whose archive copy is missing (all for tenant acme)."""
    from datetime import timedelta

    from sqlalchemy import create_engine

    long_ago, now = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)
    sync = create_engine(sqlite_url.replace("+aiosqlite", ""))
    with sync.begin() as conn:
        conn.execute(insert(Tenant).values(id="acme", name="Acme"))
        for request_id, at, status in (
            ("req_lost", long_ago, RequestStatus.PENDING),
            ("req_fresh", now, RequestStatus.PENDING),
            ("req_unarchived", long_ago, RequestStatus.COMPLETED),
        ):
            conn.execute(
                insert(InferenceRequest).values(
                    id=request_id,
                    tenant_id="acme",
                    model="local-echo",
                    prompt="hello",
                    parameters={},
                    status=status,
                    created_at=at,
                    updated_at=at,
                    completed_at=at if status == RequestStatus.COMPLETED else None,
                    attempts=0,
                )
            )
    sync.dispose()


def _archive_record() -> ArchiveRecord:
    at = datetime.now(UTC)
    return ArchiveRecord(
        request_id="req_probe",
        tenant_id="acme",
        model="local-echo",
        provider="local",
        prompt="p",
        parameters={},
        response="r",
        created_at=at,
        completed_at=at,
    )


def test_poller_runs_on_uvloop_when_installed_else_the_stock_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvloop

    from app.worker.runtime import uvloop_factory

    assert uvloop_factory() is uvloop.new_event_loop
    monkeypatch.setitem(sys.modules, "uvloop", None)  # what an image without it sees
    assert uvloop_factory() is None
