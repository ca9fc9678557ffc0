"""The core on the real path: PostgreSQL rows, S3 archive in moto, a scripted provider."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.models import RequestStatus
from app.notify import NullNotifier
from app.providers.errors import InvalidCredentials, ProviderRateLimited, ProviderServerError
from app.worker.messages import JobMessage, Outcome
from app.worker.metrics import WorkerMetrics
from app.worker.store import JobStore
from tests.app.worker.worker_support import FAKE_MODEL, FakeProvider, body_for, row_of, usage_rows


def message(request_id: str, tenant: str, *, receive_count: int = 1) -> JobMessage:
    return JobMessage(
        message_id=f"m-{request_id}-{receive_count}",
        body=body_for(request_id, tenant),
        receive_count=receive_count,
        sent_at=datetime.now(UTC) - timedelta(seconds=2),
    )


async def test_pending_request_completes_with_usage_and_archive(  # noqa: PLR0917
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    aws_clients: dict[str, Any],
    bucket: str,
) -> None:
    provider, metrics = FakeProvider(), WorkerMetrics()
    request_id = await make_request()

    result = await build_core(provider, metrics=metrics).process(message(request_id, tenant))

    assert result.outcome is Outcome.COMPLETED
    row = await row_of(engine, request_id)
    assert row["status"] == RequestStatus.COMPLETED
    assert row["response"] == f"answer to prompt {request_id}"
    assert (row["tokens_in"], row["tokens_out"], row["provider"]) == (3, 4, "fake")
    assert row["lease_owner"] is None and row["prompt"] is None
    day = row["created_at"].astimezone(UTC).strftime("%Y-%m-%d")
    assert row["archive_key"] == f"archive/tenant={tenant}/date={day}/{request_id}.json"
    assert await usage_rows(engine, request_id) == 1
    obj = await aws_clients["s3"].get_object(Bucket=bucket, Key=row["archive_key"])
    archived = json.loads(await obj["Body"].read())
    assert archived["prompt"] == f"prompt {request_id}"
    assert archived["parameters"] == {"max_tokens": 16}
    assert archived["metadata"]["tokens_out"] == 4
    assert metrics.count("agatha_worker_jobs_processed", outcome="completed") == 1
    assert metrics.registry.get_sample_value("agatha_worker_queue_lag_seconds_count") == 1


async def test_archive_written_from_memory_matches_the_completed_row(  # noqa: PLR0917
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    aws_clients: dict[str, Any],
    bucket: str,
) -> None:
    request_id = await make_request()

    result = await build_core(FakeProvider()).process(message(request_id, tenant))

    assert result.outcome is Outcome.COMPLETED
    row = await row_of(engine, request_id)
    obj = await aws_clients["s3"].get_object(Bucket=bucket, Key=row["archive_key"])
    archived = json.loads(await obj["Body"].read())
    assert datetime.fromisoformat(archived["completed_at"]) == row["completed_at"]
    assert datetime.fromisoformat(archived["created_at"]) == row["created_at"]
    assert (archived["provider"], archived["response"]) == (row["provider"], row["response"])
    assert archived["metadata"] == {
        "tokens_in": row["tokens_in"],
        "tokens_out": row["tokens_out"],
        "processing_ms": row["processing_ms"],
        "attempts": row["attempts"],
    }
    usage_at = await _usage_created_at(engine, request_id)
    assert usage_at == row["completed_at"]


async def _usage_created_at(engine: AsyncEngine, request_id: str) -> datetime:
    from sqlalchemy import text

    async with engine.connect() as conn:
        query = text("SELECT created_at FROM usage_events WHERE request_id = :id")
        return (await conn.execute(query, {"id": request_id})).scalar_one()


async def test_same_message_delivered_twice_calls_provider_once(
    build_core: Callable[..., Any], make_request: Callable[..., Any], tenant: str
) -> None:
    provider = FakeProvider()
    core = build_core(provider)
    request_id = await make_request()

    first = await core.process(message(request_id, tenant))
    second = await core.process(message(request_id, tenant, receive_count=2))

    assert (first.outcome, second.outcome) == (Outcome.COMPLETED, Outcome.SKIPPED)
    assert second.reason == "already_completed"
    assert len(provider.calls) == 1


async def test_two_workers_racing_for_one_job_make_one_provider_call(
    build_core: Callable[..., Any], make_request: Callable[..., Any], tenant: str
) -> None:
    provider = FakeProvider(gate=asyncio.Event())
    worker_a, worker_b = build_core(provider, owner="a"), build_core(provider, owner="b")
    request_id = await make_request()

    task_a = asyncio.create_task(worker_a.process(message(request_id, tenant)))
    await asyncio.wait_for(provider.started.wait(), timeout=5)
    result_b = await worker_b.process(message(request_id, tenant))
    provider.gate.set()  # type: ignore[union-attr]
    result_a = await asyncio.wait_for(task_a, timeout=5)

    assert result_a.outcome is Outcome.COMPLETED
    assert result_b.outcome is Outcome.RETRY and result_b.reason == "claimed_elsewhere"
    assert len(provider.calls) == 1


async def test_job_of_killed_worker_completes_once_after_lease_expires(
    make_store: Callable[..., JobStore],
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider = FakeProvider()
    request_id = await make_request()
    # The "killed" worker claims and never finishes.
    assert await make_store().claim(request_id, owner="dead", lease_seconds=60) is not None

    early = await build_core(provider, owner="b").process(message(request_id, tenant))
    later = build_core(provider, owner="b", clock=lambda: datetime.now(UTC) + timedelta(seconds=61))
    late = await later.process(message(request_id, tenant, receive_count=2))

    assert early.outcome is Outcome.RETRY and early.retry_after is not None
    assert late.outcome is Outcome.COMPLETED
    assert len(provider.calls) == 1
    row = await row_of(engine, request_id)
    assert (row["status"], row["attempts"]) == (RequestStatus.COMPLETED, 2)
    # The dead worker waking up cannot overwrite the result.
    assert not await make_store().release(request_id, owner="dead")
    assert await usage_rows(engine, request_id) == 1


async def test_cancelled_before_pickup_never_calls_provider(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider = FakeProvider()
    request_id = await make_request(status=RequestStatus.CANCELLED)

    result = await build_core(provider).process(message(request_id, tenant))

    assert result.outcome is Outcome.SKIPPED and result.outcome.ack
    assert provider.calls == []
    assert (await row_of(engine, request_id))["status"] == RequestStatus.CANCELLED


async def test_permanent_provider_error_fails_request_at_once(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider = FakeProvider(always=InvalidCredentials("bad key; fix it", provider="fake"))
    request_id = await make_request()

    result = await build_core(provider).process(message(request_id, tenant))

    assert result.outcome is Outcome.FAILED and result.outcome.ack
    assert len(provider.calls) == 1
    row = await row_of(engine, request_id)
    assert (row["status"], row["error_code"]) == (RequestStatus.FAILED, "provider_auth_failed")
    assert row["error_message"] == "bad key; fix it"
    assert await usage_rows(engine, request_id) == 0


async def test_rate_limit_is_retried_within_the_delivery(
    build_core: Callable[..., Any], make_request: Callable[..., Any], tenant: str
) -> None:
    limited = ProviderRateLimited("slow down", provider="fake", status=429, retry_after=0.02)
    provider, metrics = FakeProvider(errors=[limited]), WorkerMetrics()
    request_id = await make_request()

    result = await build_core(provider, metrics=metrics).process(message(request_id, tenant))

    assert result.outcome is Outcome.COMPLETED
    assert len(provider.calls) == 2
    labels = {"provider": "fake", "error_code": "provider_rate_limited"}
    assert metrics.count("agatha_worker_provider_retries", **labels) == 1


async def test_provider_down_releases_then_dead_letters_on_last_delivery(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider = FakeProvider(always=ProviderServerError("HTTP 503", provider="fake", status=503))
    core = build_core(provider)
    request_id = await make_request()

    first = await core.process(message(request_id, tenant, receive_count=1))
    assert first.outcome is Outcome.RETRY and not first.outcome.ack
    assert (await row_of(engine, request_id))["status"] == RequestStatus.PENDING
    last = await core.process(message(request_id, tenant, receive_count=3))

    assert last.outcome is Outcome.DEAD_LETTER and not last.outcome.ack
    row = await row_of(engine, request_id)
    assert (row["status"], row["error_code"]) == (RequestStatus.FAILED, "provider_server_error")
    assert "gave up after 3 deliveries" in row["error_message"]
    assert len(provider.calls) == 6  # 3 attempts per delivery


async def test_fallback_model_answers_when_primary_is_down(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    primary = FakeProvider(always=ProviderServerError("down", provider="fake", status=500))
    backup = FakeProvider(name="backup")
    core = build_core(
        primary, fallbacks={FAKE_MODEL: ("backup-model",)}, extra_providers={"backup": backup}
    )
    request_id = await make_request()

    result = await core.process(message(request_id, tenant))

    assert result.outcome is Outcome.COMPLETED
    assert (len(primary.calls), len(backup.calls)) == (3, 1)
    assert (await row_of(engine, request_id))["provider"] == "backup"


async def test_malformed_message_is_dropped_without_provider_call(
    build_core: Callable[..., Any],
) -> None:
    provider = FakeProvider()
    bad = JobMessage(message_id="m1", body='{"v": 2, "id": "x"}', receive_count=1)

    result = await build_core(provider).process(bad)

    assert (result.outcome, result.reason) == (Outcome.SKIPPED, "malformed_message")
    assert provider.calls == []


async def test_archive_failure_keeps_message_and_next_delivery_only_archives(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider = FakeProvider()
    request_id = await make_request()

    broken = build_core(provider, archive_bucket="no-such-bucket")
    first = await broken.process(message(request_id, tenant))
    row = await row_of(engine, request_id)
    assert first.outcome is Outcome.RETRY and row["status"] == RequestStatus.COMPLETED
    assert row["archive_key"] is None and row["prompt"] is not None

    second = await build_core(provider).process(message(request_id, tenant, receive_count=2))

    assert (second.outcome, second.reason) == (Outcome.SKIPPED, "archive_only")
    assert (await row_of(engine, request_id))["archive_key"] is not None
    assert len(provider.calls) == 1


async def test_unknown_model_fails_with_catalogue_hint(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    request_id = await make_request(model="no-such-model")

    result = await build_core(FakeProvider()).process(message(request_id, tenant))

    assert result.outcome is Outcome.FAILED
    row = await row_of(engine, request_id)
    assert row["error_code"] == "unknown_model" and "catalogue" in row["error_message"]


class RecordingNotifier(NullNotifier):
    """Records what was published, the row's status at that moment, or fails on publish."""

    live = True

    def __init__(self, engine: AsyncEngine, *, broken: bool = False) -> None:
        super().__init__()
        self.engine = engine
        self.broken = broken
        self.published: list[tuple[str, str]] = []

    async def publish_done(self, request_id: str) -> None:
        if self.broken:
            raise ConnectionError("redis is down")
        row = await row_of(self.engine, request_id)
        self.published.append((request_id, row["status"]))


async def test_completion_and_failure_are_published_once_the_row_is_terminal(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    notifier = RecordingNotifier(engine)
    done, failed = await make_request(), await make_request()
    await build_core(FakeProvider(), notifier=notifier).process(message(done, tenant))
    provider = FakeProvider(always=InvalidCredentials("bad key", provider="fake"))
    await build_core(provider, notifier=notifier).process(message(failed, tenant))

    assert notifier.published == [
        (done, RequestStatus.COMPLETED),
        (failed, RequestStatus.FAILED),
    ]


async def test_a_failing_publish_never_fails_the_job(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    request_id = await make_request()
    core = build_core(FakeProvider(), notifier=RecordingNotifier(engine, broken=True))

    result = await core.process(message(request_id, tenant))

    assert result.outcome is Outcome.COMPLETED
    assert (await row_of(engine, request_id))["status"] == RequestStatus.COMPLETED


async def test_database_blip_after_the_provider_answered_does_not_call_it_again(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlalchemy.exc import OperationalError

    provider = FakeProvider()
    core = build_core(provider)
    request_id = await make_request()
    real_complete = core._d.store.complete
    failures = [OperationalError("UPDATE", {}, ConnectionResetError("server restarting"))] * 2

    async def flaky_complete(*args: Any, **kwargs: Any) -> bool:
        if failures:
            raise failures.pop()
        return await real_complete(*args, **kwargs)

    monkeypatch.setattr(core._d.store, "complete", flaky_complete)
    result = await core.process(message(request_id, tenant))

    assert result.outcome is Outcome.COMPLETED
    assert len(provider.calls) == 1
    assert (await row_of(engine, request_id))["status"] == RequestStatus.COMPLETED


@pytest.mark.parametrize("fault", ["unreachable", "closed"])
async def test_a_database_the_worker_cannot_reach_leaves_the_job_for_the_next_delivery(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    migrated_pg_url: str,
    *,
    fault: str,
) -> None:
    """Through the real statement lease: refused connections, or a store already closed."""
    import socket

    from sqlalchemy import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    refused = make_url(migrated_pg_url).set(host="127.0.0.1", port=port)
    url = refused.render_as_string(hide_password=False)
    store_engine = create_async_engine(url) if fault == "unreachable" else engine
    provider = FakeProvider()
    core = build_core(provider, store_engine=store_engine)
    if fault == "closed":
        await core.store.aclose()
    request_id = await make_request()
    try:
        result = await asyncio.wait_for(core.process(message(request_id, tenant)), 30)
    finally:
        if store_engine is not engine:
            await store_engine.dispose()
    assert result.outcome is Outcome.RETRY and not result.outcome.ack
    assert provider.calls == []
    assert (await row_of(engine, request_id))["status"] == RequestStatus.PENDING


async def test_heartbeat_beats_only_while_a_long_job_runs(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider = FakeProvider(gate=asyncio.Event())
    core = build_core(provider, heartbeat_seconds=0.05)
    extended: list[int] = []

    async def extend(seconds: int) -> None:
        extended.append(seconds)

    request_id = await make_request()
    job = asyncio.create_task(core.process(message(request_id, tenant), extend_visibility=extend))
    await asyncio.wait_for(provider.started.wait(), timeout=5)
    leased = (await row_of(engine, request_id))["lease_expires_at"]
    await asyncio.sleep(0.25)  # several heartbeats while the provider call hangs
    renewed = (await row_of(engine, request_id))["lease_expires_at"]
    provider.gate.set()  # type: ignore[union-attr]
    result = await asyncio.wait_for(job, timeout=5)
    beats = len(extended)
    await asyncio.sleep(0.15)  # the job is over: no beat after it

    quick: list[int] = []

    async def extend_quick(seconds: int) -> None:
        quick.append(seconds)

    # A job shorter than the interval never beats (the first beat waits one interval).
    # The interval is far above the job's duration so a stall on a busy machine cannot
    # make the job long.
    fast = build_core(FakeProvider(), heartbeat_seconds=5.0)
    fast_result = await fast.process(
        message(await make_request(), tenant), extend_visibility=extend_quick
    )

    assert result.outcome is fast_result.outcome is Outcome.COMPLETED
    assert renewed > leased
    assert beats >= 2 and extended == [30] * beats
    assert quick == []
