"""The batching sender: concurrent sends share SendMessageBatch calls; failures reach callers."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import boto3
import pytest

from app.aws import aio_session, client_kwargs
from app.errors import EnqueueFailed
from app.queue import BatchingSender, job_body
from app.settings import Settings


class CountingClient:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.batch_sizes: list[int] = []

    async def send_message_batch(self, **kwargs: Any) -> Any:
        self.batch_sizes.append(len(kwargs["Entries"]))
        return await self.inner.send_message_batch(**kwargs)


async def test_concurrent_sends_are_batched_and_each_gets_its_message_id(aws_env: str) -> None:
    queue_url = boto3.client("sqs").create_queue(QueueName=f"b-{uuid.uuid4().hex}")["QueueUrl"]
    settings = Settings(aws_endpoint_url=aws_env)
    async with aio_session().create_client("sqs", **client_kwargs(settings)) as raw:
        client = CountingClient(raw)
        sender = BatchingSender(client, queue_url, max_delay=0.01)
        bodies = [job_body(request_id=f"req_{i}", tenant_id="t") for i in range(23)]
        ids = await asyncio.gather(*(sender.send(body) for body in bodies))
        await sender.close()
    assert len(set(ids)) == 23
    assert sorted(client.batch_sizes, reverse=True) == [10, 10, 3]
    assert json.loads(bodies[0]) == {"v": 1, "id": "req_0", "tenant": "t"}


async def test_send_to_a_missing_queue_raises_enqueue_failed(aws_env: str) -> None:
    settings = Settings(aws_endpoint_url=aws_env)
    async with aio_session().create_client("sqs", **client_kwargs(settings)) as raw:
        sender = BatchingSender(raw, f"{aws_env}/123456789012/missing", max_delay=0.001)
        with pytest.raises(EnqueueFailed):
            await sender.send("{}")


class HeldClient:
    """A queue whose SendMessageBatch answers only when the test releases it."""

    def __init__(self, *, reject: frozenset[str] = frozenset()) -> None:
        self.release = asyncio.Event()
        self.batches: list[list[str]] = []
        self.reject = reject

    async def send_message_batch(self, **kwargs: Any) -> Any:
        bodies = [entry["MessageBody"] for entry in kwargs["Entries"]]
        self.batches.append(bodies)
        await self.release.wait()
        ok = [e for e in kwargs["Entries"] if e["MessageBody"] not in self.reject]
        bad = [e for e in kwargs["Entries"] if e["MessageBody"] in self.reject]
        return {
            "Successful": [{"Id": e["Id"], "MessageId": f"m-{e['MessageBody']}"} for e in ok],
            "Failed": [{"Id": e["Id"], "Code": "InvalidMessageContents"} for e in bad],
        }


async def _until(predicate: Any) -> None:
    for _ in range(1000):  # bounded: yields to the loop until the sender has acted
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def test_batching_window_grows_while_batches_are_in_flight() -> None:
    client = HeldClient()
    sender = BatchingSender(client, "q", max_delay=0.002, busy_delay=0.010, max_inflight=8)
    assert sender.window() == pytest.approx(0.002)
    waiting = [asyncio.ensure_future(sender.send(str(i))) for i in range(10)]
    await _until(lambda: len(client.batches) == 1)
    assert sender.window() == pytest.approx(0.004)
    waiting += [asyncio.ensure_future(sender.send(str(i))) for i in range(10, 50)]
    await _until(lambda: len(client.batches) == 5)
    assert sender.window() == pytest.approx(0.010)
    client.release.set()
    assert await asyncio.gather(*waiting) == [f"m-{i}" for i in range(50)]
    assert sender.window() == pytest.approx(0.002)


async def test_idle_window_is_never_longer_than_the_busy_window() -> None:
    sender = BatchingSender(HeldClient(), "q", max_delay=0.02, busy_delay=0.010)
    assert sender.window() == pytest.approx(0.02)


async def test_a_rejected_entry_fails_only_its_own_request() -> None:
    client = HeldClient(reject=frozenset({"3"}))
    client.release.set()
    sender = BatchingSender(client, "q", max_delay=0.001)
    outcomes = await asyncio.gather(
        *(sender.send(str(i)) for i in range(10)), return_exceptions=True
    )
    assert client.batches == [[str(i) for i in range(10)]]
    assert isinstance(outcomes[3], EnqueueFailed)
    assert [o for i, o in enumerate(outcomes) if i != 3] == [f"m-{i}" for i in range(10) if i != 3]


async def test_messages_wait_for_a_free_slot_and_leave_as_fuller_batches() -> None:
    client = HeldClient()
    sender = BatchingSender(client, "q", max_delay=0.001, max_inflight=1)
    first = [asyncio.ensure_future(sender.send(str(i))) for i in range(10)]
    await _until(lambda: len(client.batches) == 1)
    held = [asyncio.ensure_future(sender.send(str(i))) for i in range(10, 25)]
    await _until(lambda: len(sender._pending) == 15)
    assert len(client.batches) == 1  # the only slot is busy: nothing else was sent
    client.release.set()
    assert await asyncio.gather(*first, *held) == [f"m-{i}" for i in range(25)]
    assert [len(batch) for batch in client.batches] == [10, 10, 5]


class BrokenClient:
    async def send_message_batch(self, **kwargs: Any) -> Any:
        raise RuntimeError("unexpected")


async def test_an_unexpected_send_error_fails_the_callers_instead_of_hanging() -> None:
    sender = BatchingSender(BrokenClient(), "q", max_delay=0.001)
    with pytest.raises(EnqueueFailed):
        await asyncio.wait_for(sender.send("x"), timeout=5)
    await sender.close()


async def test_each_batch_size_is_reported_to_the_observer() -> None:
    client = HeldClient()
    client.release.set()
    sizes: list[int] = []
    sender = BatchingSender(client, "q", max_delay=0.001, on_batch=sizes.append)
    await asyncio.gather(*(sender.send(str(i)) for i in range(13)))
    await sender.close()
    assert sizes == [len(batch) for batch in client.batches]
    assert sorted(sizes, reverse=True) == [10, 3]
