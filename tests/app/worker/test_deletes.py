"""DeleteBatcher: settled messages leave SQS in batches of at most 10."""

from __future__ import annotations

import asyncio
from typing import Any

from app.worker.deletes import DeleteBatcher


class RecordingSqs:
    def __init__(self, *, fail: set[str] | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail or set()
        self.sent = asyncio.Event()

    async def delete_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:
        self.batches.append([e["ReceiptHandle"] for e in Entries])
        self.sent.set()
        failed = [e for e in Entries if e["ReceiptHandle"] in self.fail]
        return {"Failed": [{"Id": e["Id"], "Code": "ReceiptHandleIsInvalid"} for e in failed]}


async def test_full_batches_go_at_once_and_the_rest_on_close() -> None:
    sqs = RecordingSqs()
    # A window far beyond the test: only the size trigger and aclose() may send.
    batcher = DeleteBatcher(sqs, "q", window=3600)
    for n in range(23):
        batcher.add(f"r{n}")
    await batcher.aclose()

    assert [len(b) for b in sqs.batches] == [10, 10, 3]
    assert [r for b in sqs.batches for r in b] == [f"r{n}" for n in range(23)]


async def test_partial_batch_goes_after_the_window_and_failures_are_only_logged() -> None:
    sqs = RecordingSqs(fail={"r1"})
    batcher = DeleteBatcher(sqs, "q", window=0.01)
    batcher.add("r0")
    batcher.add("r1")
    await asyncio.wait_for(sqs.sent.wait(), timeout=5)  # sent by the window, not by close
    await batcher.aclose()

    assert sqs.batches == [["r0", "r1"]]
