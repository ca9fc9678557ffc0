"""Batch the poller's SQS deletes: one DeleteMessageBatch per 10 settled messages or window.

Only messages whose job is settled (row terminal, or nothing left to do) are handed in,
so batching changes when the delete happens, never whether it may. A delete that fails
is logged and dropped: the message reappears after its visibility timeout and the claim
absorbs the repeat.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

MAX_SQS_BATCH = 10
DEFAULT_WINDOW_SECONDS = 0.05


class DeleteBatcher:
    """Collects receipt handles; flushes at 10 or ``window`` seconds after the first."""

    def __init__(self, sqs: Any, queue_url: str, *, window: float = DEFAULT_WINDOW_SECONDS) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._window = window
        self._pending: list[str] = []
        self._timer: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._log = structlog.get_logger("app.worker.poller")

    def add(self, receipt: str) -> None:
        """Schedule the delete of one settled message (returns at once)."""
        self._pending.append(receipt)
        if len(self._pending) >= MAX_SQS_BATCH:
            self._send(self._take())
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_after_window())

    async def aclose(self) -> None:
        """Send everything still pending and wait for the batches in flight."""
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        while self._pending:
            self._send(self._take())
        await asyncio.gather(*self._sending, return_exceptions=True)

    def _take(self) -> list[str]:
        batch, self._pending = self._pending[:MAX_SQS_BATCH], self._pending[MAX_SQS_BATCH:]
        return batch

    def _send(self, batch: list[str]) -> None:
        task = asyncio.create_task(self._delete(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _flush_after_window(self) -> None:
        await asyncio.sleep(self._window)
        self._timer = None
        while self._pending:
            self._send(self._take())

    async def _delete(self, batch: list[str]) -> None:
        entries = [{"Id": str(n), "ReceiptHandle": r} for n, r in enumerate(batch)]
        try:
            response = await self._sqs.delete_message_batch(
                QueueUrl=self._queue_url, Entries=entries
            )
        except (BotoCoreError, ClientError) as exc:
            self._log.error("poller.delete_failed", messages=len(batch), error=str(exc))
            return
        failed = response.get("Failed", [])
        if failed:
            self._log.error(
                "poller.delete_failed",
                messages=len(failed),
                error="; ".join(str(f.get("Message", f.get("Code"))) for f in failed[:3]),
            )
