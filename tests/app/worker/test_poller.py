"""The poller against SQS in moto and PostgreSQL: nothing lost, nothing doubled, clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.models import InferenceRequest, RequestStatus
from app.worker.calls import ProviderCalls
from app.worker.core import INTERRUPTED
from app.worker.messages import JobResult, Outcome
from app.worker.poller import FINISHING_PER_CALL, Poller, install_stop_signals
from tests.app.worker.worker_support import FakeProvider, body_for, row_of


async def in_flight(sqs: Any, queue_url: str) -> int:
    """Messages received and not yet deleted or handed back."""
    name = "ApproximateNumberOfMessagesNotVisible"
    answer = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[name])
    return int(answer["Attributes"][name])


async def statuses(engine: AsyncEngine, ids: list[str]) -> dict[str, str]:
    table = InferenceRequest.__table__
    async with engine.connect() as conn:
        rows = await conn.execute(select(table.c.id, table.c.status).where(table.c.id.in_(ids)))
        return {row.id: row.status for row in rows}


async def test_poller_processes_every_request_once_with_duplicates(  # noqa: PLR0917
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    aws_clients: dict[str, Any],
    queues: dict[str, str],
) -> None:
    sqs, queue_url = aws_clients["sqs"], queues["queue_url"]
    ids = [await make_request() for _ in range(12)]
    bodies = [body_for(i, tenant) for i in ids] + [body_for(i, tenant) for i in ids[:4]]
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(n), "MessageBody": b} for n, b in enumerate(bodies[start : start + 10])
        ]
        await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    provider, stop, done = FakeProvider(), asyncio.Event(), []

    def on_done(result: JobResult) -> None:
        done.append(result)
        if len(done) == len(bodies):
            stop.set()

    poller = Poller(
        core=build_core(provider),
        sqs=sqs,
        queue_url=queue_url,
        concurrency=4,
        wait_seconds=1,
        on_done=on_done,
    )
    await asyncio.wait_for(poller.run(stop), timeout=60)

    assert set((await statuses(engine, ids)).values()) == {RequestStatus.COMPLETED}
    assert sorted(provider.calls) == sorted(f"prompt {i}" for i in ids)
    left = await sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    # A duplicate that met its twin mid-flight is parked (RETRY) and acked on its next delivery.
    parked = sum(1 for r in done if r.outcome is Outcome.RETRY)
    assert left["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert left["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == str(parked)


@pytest.mark.parametrize(
    ("repeat", "status", "error_code"),
    [(True, RequestStatus.PENDING, None), (False, RequestStatus.FAILED, INTERRUPTED)],
    ids=["retry", "fail"],
)
async def test_stop_hands_back_or_closes_the_inflight_job_and_makes_message_visible(  # noqa: PLR0917
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    aws_clients: dict[str, Any],
    queues: dict[str, str],
    repeat: bool,
    status: str,
    error_code: str | None,
) -> None:
    # A call still running at the end of the grace is cut off: "retry" hands the row back
    # for the next delivery, "fail" (the default) closes it so the call is never made twice.
    sqs, queue_url = aws_clients["sqs"], queues["queue_url"]
    request_id = await make_request()
    await sqs.send_message(QueueUrl=queue_url, MessageBody=body_for(request_id, tenant))
    provider, stop = FakeProvider(gate=asyncio.Event()), asyncio.Event()
    poller = Poller(
        core=build_core(provider, repeat_interrupted_calls=repeat),
        sqs=sqs,
        queue_url=queue_url,
        concurrency=2,
        wait_seconds=1,
        shutdown_grace=0.0,
    )

    running = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(provider.started.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(running, timeout=10)

    row = await row_of(engine, request_id)
    assert (row["status"], row["lease_owner"], row["error_code"]) == (status, None, error_code)
    again = await sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)
    assert len(again.get("Messages", [])) == 1


@pytest.mark.parametrize("repeat", [True, False], ids=["retry", "fail"])
async def test_stop_hands_back_a_job_still_waiting_for_a_call_slot(  # noqa: PLR0917
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    aws_clients: dict[str, Any],
    queues: dict[str, str],
    repeat: bool,
) -> None:
    # "retry" claims before waiting for the slot (the row is handed back); "fail" waits
    # for the slot before it claims (the row is never touched).
    sqs, queue_url = aws_clients["sqs"], queues["queue_url"]
    ids = [await make_request() for _ in range(2)]
    entries = [{"Id": str(n), "MessageBody": body_for(i, tenant)} for n, i in enumerate(ids)]
    await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    provider, stop, done = FakeProvider(gate=asyncio.Event()), asyncio.Event(), []
    poller = Poller(
        core=build_core(provider, repeat_interrupted_calls=repeat),
        sqs=sqs,
        queue_url=queue_url,
        concurrency=1,
        wait_seconds=1,
        shutdown_grace=5.0,
        on_done=done.append,
    )

    running = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(provider.started.wait(), timeout=10)
    # The other job waits for the one call slot, claimed ("retry") or not ("fail").
    waiting = {RequestStatus.PROCESSING} if repeat else {RequestStatus.PENDING}
    expected = {RequestStatus.PROCESSING} | waiting
    for _ in range(200):  # bounded: 10 s
        found = set((await statuses(engine, ids)).values())
        if found == expected and await in_flight(sqs, queue_url) == len(ids):
            break
        await asyncio.sleep(0.05)
    assert found == expected
    assert await in_flight(sqs, queue_url) == len(ids)  # both received: one runs, one waits
    stop.set()
    # Handed back at once, while the running call still has not answered.
    for _ in range(100):  # bounded: 5 s
        if done:
            break
        await asyncio.sleep(0.05)
    assert [(r.outcome, r.reason) for r in done] == [(Outcome.RETRY, "stopping")]
    provider.gate.set()  # type: ignore[union-attr]  # the running call finishes in the grace
    await asyncio.wait_for(running, timeout=10)

    assert len(provider.calls) == 1  # the waiting job never called the provider
    outcomes = sorted((r.outcome, r.reason) for r in done)
    assert outcomes == sorted([(Outcome.COMPLETED, ""), (Outcome.RETRY, "stopping")])
    states = {(await row_of(engine, i))["status"] for i in ids}
    assert states == {RequestStatus.COMPLETED, RequestStatus.PENDING}
    again = await sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)
    assert len(again.get("Messages", [])) == 1  # visible again at once, not after its timeout


async def test_sigterm_sets_the_stop_event() -> None:
    stop = asyncio.Event()
    install_stop_signals(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), timeout=5)
    finally:
        loop = asyncio.get_running_loop()
        loop.remove_signal_handler(signal.SIGTERM)
        loop.remove_signal_handler(signal.SIGINT)
    assert stop.is_set()


async def test_provider_down_ends_in_dlq_and_failed(  # noqa: PLR0917
    build_core: Callable[..., Any],
    make_request: Callable[..., Any],
    engine: AsyncEngine,
    tenant: str,
    aws_clients: dict[str, Any],
    queues: dict[str, str],
) -> None:
    from app.providers.errors import ProviderConnectionError

    sqs, queue_url = aws_clients["sqs"], queues["queue_url"]
    request_id = await make_request()
    await sqs.send_message(QueueUrl=queue_url, MessageBody=body_for(request_id, tenant))
    provider = FakeProvider(always=ProviderConnectionError("refused", provider="fake"))
    stop, outcomes = asyncio.Event(), []

    def on_done(result: JobResult) -> None:
        outcomes.append(result.outcome)
        if result.outcome is Outcome.DEAD_LETTER:
            stop.set()

    core = build_core(provider)
    poller = Poller(
        core=core, sqs=sqs, queue_url=queue_url, concurrency=1, wait_seconds=1, on_done=on_done
    )
    # Released jobs come back after their requeue delay; make them visible at once here.
    poller._settle = _settle_immediately(poller._settle, sqs, queue_url)  # type: ignore[method-assign]
    await asyncio.wait_for(poller.run(stop), timeout=60)

    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.DEAD_LETTER]
    row = await row_of(engine, request_id)
    assert (row["status"], row["error_code"]) == (RequestStatus.FAILED, "provider_connection_error")
    assert len(provider.calls) == 9
    main = await sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)
    dlq = await sqs.receive_message(QueueUrl=queues["dlq_url"], WaitTimeSeconds=1)
    assert "Messages" not in main
    assert len(dlq["Messages"]) == 1


def _settle_immediately(settle: Any, sqs: Any, queue_url: str) -> Any:
    async def wrapped(receipt: str, result: JobResult) -> None:
        await settle(receipt, result)
        if result.retry_after is not None:
            await sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )

    return wrapped


class ScriptedSqs:
    """In-memory queue: receives block until ``receivers`` of them are in flight at once."""

    def __init__(self, count: int, *, receivers: int) -> None:
        self.messages = [
            {"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": "{}"} for n in range(count)
        ]
        self.receivers = receivers
        self.receiving = 0
        self.all_receiving = asyncio.Event()
        self.empty = asyncio.Event()
        self.deleted: list[str] = []
        self.batch_sizes: list[int] = []
        self.receive_kwargs: list[dict[str, Any]] = []

    async def receive_message(self, *, MaxNumberOfMessages: int, **kwargs: Any) -> dict[str, Any]:
        self.receive_kwargs.append(kwargs)
        self.receiving += 1
        if self.receiving >= self.receivers:
            self.all_receiving.set()
        try:
            await self.all_receiving.wait()
            if not self.messages:
                await self.empty.wait()  # an empty queue long-polls until the poller stops
            batch = self.messages[:MaxNumberOfMessages]
            self.messages = self.messages[MaxNumberOfMessages:]
            return {"Messages": batch}
        finally:
            self.receiving -= 1

    async def delete_message_batch(self, *, Entries: list[dict[str, str]], **_: Any) -> dict:
        self.batch_sizes.append(len(Entries))
        self.deleted += [e["ReceiptHandle"] for e in Entries]
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}

    async def change_message_visibility(self, **_: Any) -> None:
        return None


class SlowCore:
    """Counts provider calls in flight (inside the poller's bound); each waits for ``gate``."""

    def __init__(self, *, full_at: int) -> None:
        self.running = 0
        self.most = 0
        self.full_at = full_at
        self.full = asyncio.Event()
        self.gate = asyncio.Event()

    async def process(
        self, job: Any, *, extend_visibility: Any = None, calls: ProviderCalls | None = None
    ) -> JobResult:
        assert calls is not None, "the poller passes its provider-call bound to every job"
        async with calls:
            self.running += 1
            self.most = max(self.most, self.running)
            if self.running >= self.full_at:
                self.full.set()
            try:
                await self.gate.wait()
            finally:
                self.running -= 1
        return JobResult(Outcome.COMPLETED, job.message_id)


async def test_poller_keeps_every_slot_busy_with_concurrent_receives() -> None:
    concurrency, total = 24, 60
    # One receive per 10 slots must be in flight together, else ScriptedSqs never answers.
    sqs = ScriptedSqs(total, receivers=3)
    core, stop, done = SlowCore(full_at=concurrency), asyncio.Event(), []

    def on_done(result: JobResult) -> None:
        done.append(result)
        if len(done) == total:
            stop.set()

    poller = Poller(
        core=core,  # type: ignore[arg-type]
        sqs=sqs,
        queue_url="q",
        concurrency=concurrency,
        on_done=on_done,
    )
    running = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(core.full.wait(), timeout=10)
    assert core.running == concurrency
    core.gate.set()
    await asyncio.wait_for(running, timeout=10)

    assert core.most == concurrency  # full, and never more than the bound
    assert sorted(sqs.deleted) == sorted(f"r{n}" for n in range(total))
    assert max(sqs.batch_sizes) <= 10 and len(sqs.batch_sizes) < total


async def test_poller_holds_messages_for_its_own_visibility_not_the_queue_default() -> None:
    sqs = ScriptedSqs(1, receivers=1)
    core, stop = SlowCore(full_at=1), asyncio.Event()
    core.gate.set()
    poller = Poller(
        core=core,  # type: ignore[arg-type]
        sqs=sqs,
        queue_url="q",
        concurrency=1,
        visibility_seconds=120,
        on_done=lambda _: stop.set(),
    )
    await asyncio.wait_for(poller.run(stop), timeout=10)
    assert sqs.receive_kwargs[0]["VisibilityTimeout"] == 120


async def test_poller_prefetches_beyond_concurrency_but_never_runs_more() -> None:
    concurrency, prefetch, total = 2, 3, 10
    sqs = ScriptedSqs(total, receivers=1)
    core, stop, done = SlowCore(full_at=concurrency), asyncio.Event(), []

    def on_done(result: JobResult) -> None:
        done.append(result)
        if len(done) == total:
            stop.set()

    poller = Poller(
        core=core,  # type: ignore[arg-type]
        sqs=sqs,
        queue_url="q",
        concurrency=concurrency,
        prefetch=prefetch,
        on_done=on_done,
    )
    running = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(core.full.wait(), timeout=10)
    # One receive took a whole batch: the calls, as many claiming/finishing, the prefetch.
    assert poller.held == (1 + FINISHING_PER_CALL) * concurrency + prefetch
    assert len(sqs.messages) == total - poller.held
    assert core.running == concurrency
    core.gate.set()
    await asyncio.wait_for(running, timeout=10)

    assert core.most == concurrency
    assert sorted(sqs.deleted) == sorted(f"r{n}" for n in range(total))
