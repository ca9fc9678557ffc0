"""WORKER_INTERRUPTED_CALLS: a provider call cut off by a dead worker is made again
("retry", the default) or never again ("fail": the request fails with worker_interrupted).

"Dead" is simulated as in test_worker_core: a worker claims (and, here, starts its call)
and never finishes; the next worker's clock is past the lease.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.models import InferenceRequest, RequestStatus, Tenant
from app.worker.calls import ProviderCalls
from app.worker.config import WorkerConfig, WorkerSettings
from app.worker.core import INTERRUPTED
from app.worker.messages import Outcome
from app.worker.store import JobStore
from tests.app.conftest import migrate
from tests.app.worker.test_worker_core import message
from tests.app.worker.worker_support import FAKE_MODEL, FakeProvider, row_of, usage_rows

LATER = timedelta(seconds=61)  # past the 60 s lease of build_core


def after_lease() -> datetime:
    return datetime.now(UTC) + LATER


async def dead_worker_with_call_in_flight(
    make_store: Callable[..., JobStore], request_id: str
) -> None:
    store = make_store()
    assert await store.claim(request_id, owner="dead", lease_seconds=60) is not None
    assert await store.mark_calling(request_id, owner="dead")


async def test_fail_policy_closes_a_call_a_dead_worker_had_in_flight(
    make_store: Callable[..., JobStore],
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider, request_id = FakeProvider(), await make_request()
    await dead_worker_with_call_in_flight(make_store, request_id)

    core = build_core(provider, owner="b", clock=after_lease, repeat_interrupted_calls=False)
    result = await core.process(message(request_id, tenant, receive_count=2))

    assert (result.outcome, result.reason) == (Outcome.FAILED, INTERRUPTED)
    assert provider.calls == []  # never a second call
    row = await row_of(engine, request_id)
    assert (row["status"], row["error_code"]) == (RequestStatus.FAILED, INTERRUPTED)
    assert "submit the prompt again" in row["error_message"]
    assert await usage_rows(engine, request_id) == 0


async def test_fail_policy_runs_a_job_whose_dead_worker_never_started_the_call(
    make_store: Callable[..., JobStore],
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider, request_id = FakeProvider(), await make_request()
    # Claimed, then died waiting for a call slot: nothing reached the provider.
    assert await make_store().claim(request_id, owner="dead", lease_seconds=60) is not None

    core = build_core(provider, owner="b", clock=after_lease, repeat_interrupted_calls=False)
    result = await core.process(message(request_id, tenant, receive_count=2))

    assert result.outcome is Outcome.COMPLETED
    assert len(provider.calls) == 1
    row = await row_of(engine, request_id)
    assert row["status"] == RequestStatus.COMPLETED
    assert row["call_started_at"] is not None  # this worker marked its own call


async def test_retry_policy_makes_the_interrupted_call_again(
    make_store: Callable[..., JobStore],
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider, request_id = FakeProvider(), await make_request()
    await dead_worker_with_call_in_flight(make_store, request_id)

    core = build_core(provider, owner="b", clock=after_lease)
    result = await core.process(message(request_id, tenant, receive_count=2))

    assert result.outcome is Outcome.COMPLETED
    assert len(provider.calls) == 1  # the call the dead worker made is made again here
    row = await row_of(engine, request_id)
    assert (row["status"], row["call_started_at"]) == (RequestStatus.COMPLETED, None)


@pytest.mark.parametrize(
    ("repeat", "status", "error_code"),
    [(True, RequestStatus.PENDING, None), (False, RequestStatus.FAILED, INTERRUPTED)],
)
async def test_a_call_cancelled_at_shutdown_is_handed_back_or_closed_by_policy(  # noqa: PLR0917
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    repeat: bool,
    status: str,
    error_code: str | None,
) -> None:
    provider, request_id = FakeProvider(gate=asyncio.Event()), await make_request()
    core = build_core(provider, repeat_interrupted_calls=repeat)
    job = asyncio.create_task(core.process(message(request_id, tenant)))
    await asyncio.wait_for(provider.started.wait(), timeout=10)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job

    row = await row_of(engine, request_id)
    assert (row["status"], row["error_code"], row["lease_owner"]) == (status, error_code, None)


async def test_a_job_refused_a_call_slot_at_stop_is_released_not_failed(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    provider, request_id = FakeProvider(), await make_request()
    stop = asyncio.Event()
    stop.set()
    core = build_core(provider, repeat_interrupted_calls=False)

    result = await core.process(message(request_id, tenant), calls=ProviderCalls(1, stop=stop))

    assert (result.outcome, result.reason, result.retry_after) == (Outcome.RETRY, "stopping", 0)
    assert provider.calls == []
    row = await row_of(engine, request_id)
    assert (row["status"], row["call_started_at"]) == (RequestStatus.PENDING, None)


@pytest.mark.parametrize(
    ("meanwhile", "interrupted"),
    [("the old owner marks its call", True), ("the old owner releases the row", False)],
)
async def test_a_claim_waiting_on_the_row_lock_reads_the_row_as_committed(
    make_store: Callable[..., JobStore],
    engine: AsyncEngine,
    make_request: Callable[..., Any],
    meanwhile: str,
    interrupted: bool,
) -> None:
    # READ COMMITTED: the claim's UPDATE re-checks the newest row after the lock wait; its
    # reading of the row's previous state must be of that same row, not of its snapshot.
    request_id, store = await make_request(), make_store()
    assert await store.claim(request_id, owner="a", lease_seconds=60) is not None
    releasing = not interrupted
    if releasing:  # marked before, so the snapshot alone would say "interrupted"
        assert await store.mark_calling(request_id, owner="a")
    table = InferenceRequest.__table__
    change = (
        {"status": RequestStatus.PENDING, "lease_owner": None, "call_started_at": None}
        if releasing
        else {"call_started_at": datetime.now(UTC)}
    )
    async with engine.connect() as other:
        transaction = await other.begin()
        await other.execute(update(table).where(table.c.id == request_id).values(**change))
        claim = make_store(clock=after_lease).claim(request_id, owner="b", lease_seconds=60)
        claiming = asyncio.ensure_future(claim)
        await asyncio.sleep(0.3)
        assert not claiming.done(), f"{meanwhile}: the claim should wait on the row lock"
        await transaction.commit()
    job = await asyncio.wait_for(claiming, timeout=10)
    assert job is not None
    assert job.interrupted is interrupted, meanwhile


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(migrate(sqlite_url))
    yield engine
    await engine.dispose()


async def test_the_one_row_claim_reports_an_interrupted_call_too(
    sqlite_engine: AsyncEngine,
) -> None:
    # SQLite (the local platform) takes the one-statement path, not PostgreSQL's unnest.
    now = datetime.now(UTC)
    async with sqlite_engine.begin() as conn:
        await conn.execute(insert(Tenant).values(id="t1", name="t"))
        for request_id in ("called", "claimed"):
            await conn.execute(
                insert(InferenceRequest).values(
                    id=request_id,
                    tenant_id="t1",
                    model=FAKE_MODEL,
                    prompt="p",
                    parameters={},
                    status=RequestStatus.PENDING,
                    created_at=now,
                    updated_at=now,
                    attempts=0,
                )
            )
    store = JobStore(sqlite_engine)
    for request_id in ("called", "claimed"):
        assert await store.claim(request_id, owner="dead", lease_seconds=60) is not None
    assert await store.mark_calling("called", owner="dead")
    assert not await store.mark_calling("claimed", owner="someone-else")

    later = JobStore(sqlite_engine, clock=after_lease)
    called = await later.claim("called", owner="b", lease_seconds=60)
    claimed = await later.claim("claimed", owner="b", lease_seconds=60)

    assert called is not None and called.interrupted
    assert claimed is not None and not claimed.interrupted
    # The dead worker's mark is cleared by the new claim: it marks its own call.
    async with sqlite_engine.connect() as conn:
        marks = await conn.execute(select(InferenceRequest.call_started_at))
        assert set(marks.scalars()) == {None}


def test_the_setting_maps_to_the_config_and_rejects_unknown_values() -> None:
    assert WorkerConfig.from_settings(WorkerSettings()).repeat_interrupted_calls
    fail = WorkerSettings(worker_interrupted_calls="fail")
    assert not WorkerConfig.from_settings(fail).repeat_interrupted_calls
    with pytest.raises(ValueError, match="'retry' or 'fail'"):
        WorkerSettings(worker_interrupted_calls="never")  # type: ignore[arg-type]


async def test_no_mark_once_the_lease_has_lapsed(
    make_store: Callable[..., JobStore], engine: AsyncEngine, make_request: Callable[..., Any]
) -> None:
    # Past its lease another worker may take the row: a call started now could be made
    # twice, so the mark (and with it the call) is refused.
    request_id = await make_request()
    assert await make_store().claim(request_id, owner="a", lease_seconds=60) is not None
    assert not await make_store(clock=after_lease).mark_calling(request_id, owner="a")
    assert (await row_of(engine, request_id))["call_started_at"] is None
