"""SQS sender that batches concurrent requests' messages (SendMessageBatch, up to 10).

Each caller awaits its own message's outcome: the batch is flushed when 10 messages are
waiting or ``max_delay`` after the first one, whichever comes first. One SendMessage costs
~0.5 ms of CPU; a batch of 10 costs ~50 us per message.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from app.errors import EnqueueFailed
from app.tracing import TRACEPARENT, current_traceparent

MAX_BATCH = 10


def job_body(*, request_id: str, tenant_id: str) -> str:
    """The queue message contract: ids only, never the prompt."""
    return json.dumps({"v": 1, "id": request_id, "tenant": tenant_id}, separators=(",", ":"))


def _entry(index: int, body: str, traceparent: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": body}
    if traceparent is not None:
        entry["MessageAttributes"] = {
            TRACEPARENT: {"DataType": "String", "StringValue": traceparent}
        }
    return entry


class BatchingSender:
    """Send messages to one queue, coalescing concurrent sends into batches."""

    def __init__(self, client: Any, queue_url: str, *, max_delay: float = 0.002) -> None:
        self._client = client
        self._queue_url = queue_url
        self._max_delay = max_delay
        self._pending: list[tuple[str, str | None, asyncio.Future[str]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    async def send(self, body: str) -> str:
        """Enqueue ``body``; returns the SQS message id once SQS accepted it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        # The batch is sent from another task: capture the caller's trace context now.
        self._pending.append((body, current_traceparent(), future))
        if len(self._pending) >= MAX_BATCH:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._max_delay, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            task = asyncio.get_running_loop().create_task(self._send_batch(batch))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _send_batch(self, batch: list[tuple[str, str | None, asyncio.Future[str]]]) -> None:
        entries = [_entry(i, body, parent) for i, (body, parent, _) in enumerate(batch)]
        try:
            response = await self._client.send_message_batch(
                QueueUrl=self._queue_url, Entries=entries
            )
        except (TimeoutError, BotoCoreError, ClientError, OSError) as exc:
            error = EnqueueFailed(f"queue rejected the batch: {type(exc).__name__}")
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for ok in response.get("Successful", []):
            future = batch[int(ok["Id"])][2]
            if not future.done():
                future.set_result(ok["MessageId"])
        for failed in response.get("Failed", []):
            future = batch[int(failed["Id"])][2]
            if not future.done():
                future.set_exception(EnqueueFailed(f"queue rejected the message: {failed['Code']}"))

    async def close(self) -> None:
        """Flush what is waiting and wait for in-flight batches."""
        self._flush()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def ping(self) -> bool:
        """True when the queue answers GetQueueAttributes."""
        try:
            await self._client.get_queue_attributes(
                QueueUrl=self._queue_url, AttributeNames=["QueueArn"]
            )
        except (BotoCoreError, ClientError, OSError):
            return False
        return True
