"""WORKER_INTERRUPTED_CALLS: a provider call cut off by a dead worker is never made again
("fail", the default: the request fails with worker_interrupted) or made again ("retry").

"Dead" is simulated as in test_worker_core: a worker claims (and, here, marks its call as
started) and never finishes; the next worker's clock is past the lease.
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
    job = await store.claim(request_id, owner="dead", lease_seconds=60, calling=True)
    assert job is not None and not job.interrupted


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
    # Claimed without the mark (a worker under "retry", claiming before its call slot),
    # then died waiting for the slot: nothing reached the provider.
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

    core = build_core(provider, owner="b", clock=after_lease, repeat_interrupted_calls=True)
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


@pytest.mark.parametrize("repeat", [False, True], ids=["fail", "retry"])
async def test_a_job_refused_a_call_slot_at_stop_goes_back_unclaimed_or_released(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    repeat: bool,
) -> None:
    # "fail" waits for the slot before claiming; "retry" claims, then releases the row.
    provider, request_id = FakeProvider(), await make_request()
    stop = asyncio.Event()
    stop.set()
    core = build_core(provider, repeat_interrupted_calls=repeat)

    result = await core.process(message(request_id, tenant), calls=ProviderCalls(1, stop=stop))

    assert (result.outcome, result.reason, result.retry_after) == (Outcome.RETRY, "stopping", 0)
    assert provider.calls == []
    row = await row_of(engine, request_id)
    assert (row["status"], row["call_started_at"], row["lease_owner"]) == (
        RequestStatus.PENDING,
        None,
        None,
    )
    assert row["attempts"] == (1 if repeat else 0)


async def test_fail_policy_claims_only_once_the_job_holds_a_call_slot(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    # A worker killed while its jobs wait for slots leaves those rows pending, not marked:
    # only calls really in flight are failed as interrupted.
    provider, request_id = FakeProvider(), await make_request()
    calls = ProviderCalls(1)
    await calls.acquire()  # every slot busy
    core = build_core(provider)
    job = asyncio.create_task(core.process(message(request_id, tenant), calls=calls))
    await asyncio.sleep(0.3)

    assert not job.done()
    row = await row_of(engine, request_id)
    assert (row["status"], row["lease_owner"], row["call_started_at"]) == (
        RequestStatus.PENDING,
        None,
        None,
    )
    calls.release()
    result = await asyncio.wait_for(job, timeout=10)

    assert result.outcome is Outcome.COMPLETED
    assert calls.in_flight == 0
    row = await row_of(engine, request_id)
    assert row["call_started_at"] is not None  # marked by the claim, in the slot


@pytest.mark.parametrize("repeat", [False, True], ids=["fail", "retry"])
async def test_a_job_cancelled_during_its_claim_hands_the_row_back(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    repeat: bool,
) -> None:
    # The end of the shutdown grace while the claim statement is on its way: it commits
    # anyway, so the job waits for it and hands the row back, unmarked. Otherwise "fail"
    # would later close as interrupted a request whose provider was never called.
    provider, request_id = FakeProvider(), await make_request()
    core = build_core(provider, repeat_interrupted_calls=repeat)
    claims = core.store._claims
    send = claims._send

    async def slow_send(items: list[Any]) -> list[Any]:
        await asyncio.sleep(0.3)  # a row-lock wait, or the answer still in transit
        return await send(items)

    claims._send = slow_send
    job = asyncio.create_task(core.process(message(request_id, tenant)))
    await asyncio.sleep(0.1)  # the claim is in flight
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    await asyncio.sleep(0.5)  # a statement on its way lands whether or not it is awaited

    assert provider.calls == []
    row = await row_of(engine, request_id)
    assert (row["status"], row["lease_owner"], row["call_started_at"]) == (
        RequestStatus.PENDING,
        None,
        None,
    )
    later = build_core(provider, owner="b", repeat_interrupted_calls=repeat)
    result = await later.process(message(request_id, tenant, receive_count=2))
    assert result.outcome is Outcome.COMPLETED  # at once, without waiting out a lease
    assert len(provider.calls) == 1


async def test_fail_policy_keeps_the_message_invisible_while_it_waits_for_a_slot(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    # Not yet claimed, so no lease to renew: only the message's visibility, or SQS would
    # deliver it again (and count it towards the dead-letter queue) during a long wait.
    provider, request_id = FakeProvider(), await make_request()
    calls = ProviderCalls(1)
    await calls.acquire()  # every slot busy
    extended: list[int] = []

    async def extend(seconds: int) -> None:
        extended.append(seconds)

    core = build_core(provider, heartbeat_seconds=0.05)
    job = asyncio.create_task(
        core.process(message(request_id, tenant), extend_visibility=extend, calls=calls)
    )
    await asyncio.sleep(0.3)
    waited = len(extended)
    row = await row_of(engine, request_id)
    calls.release()
    result = await asyncio.wait_for(job, timeout=10)

    assert waited >= 2 and set(extended) == {30}
    assert (row["status"], row["lease_owner"]) == (RequestStatus.PENDING, None)
    assert result.outcome is Outcome.COMPLETED


@pytest.mark.parametrize("calling", [True, False])
async def test_the_claim_sets_or_clears_the_call_mark(
    make_store: Callable[..., JobStore],
    engine: AsyncEngine,
    make_request: Callable[..., Any],
    calling: bool,
) -> None:
    request_id = await make_request()
    await dead_worker_with_call_in_flight(make_store, request_id)
    store = make_store(clock=after_lease)

    job = await store.claim(request_id, owner="b", lease_seconds=60, calling=calling)

    assert job is not None and job.interrupted  # read from the row as it was
    marked = (await row_of(engine, request_id))["call_started_at"]
    assert (marked is not None) is calling


async def test_a_row_whose_parameters_cannot_be_read_goes_back_unmarked(
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
) -> None:
    # Claimed with the mark, but no call was made: the next delivery must not fail it as
    # interrupted.
    request_id = await make_request()
    table = InferenceRequest.__table__
    async with engine.begin() as conn:
        await conn.execute(
            update(table).where(table.c.id == request_id).values(parameters={"max_tokens": "x"})
        )
    provider = FakeProvider()

    result = await build_core(provider).process(message(request_id, tenant))

    assert (result.outcome, result.reason) == (Outcome.RETRY, "worker_error")
    assert provider.calls == []
    row = await row_of(engine, request_id)
    assert (row["status"], row["call_started_at"], row["lease_owner"]) == (
        RequestStatus.PENDING,
        None,
        None,
    )


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
    releasing = not interrupted
    # Marked before a release, so the snapshot alone would say "interrupted".
    job = await store.claim(request_id, owner="a", lease_seconds=60, calling=releasing)
    assert job is not None
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
        calling = request_id == "called"
        job = await store.claim(request_id, owner="dead", lease_seconds=60, calling=calling)
        assert job is not None

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
    assert not WorkerConfig.from_settings(WorkerSettings()).repeat_interrupted_calls  # fail
    assert not WorkerConfig().repeat_interrupted_calls  # the same default
    retry = WorkerSettings(worker_interrupted_calls="retry")
    assert WorkerConfig.from_settings(retry).repeat_interrupted_calls
    with pytest.raises(ValueError, match="'retry' or 'fail'"):
        WorkerSettings(worker_interrupted_calls="never")  # type: ignore[arg-type]
