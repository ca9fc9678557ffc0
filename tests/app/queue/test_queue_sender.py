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
