"""The job message (CONTRACTS: {"v": 1, "id", "tenant"}) and what the core says to do with it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from app.worker.errors import MalformedJobMessage

JOB_MESSAGE_VERSION = 1


class Outcome(StrEnum):
    """What happened to one delivery; ``ack`` says whether to delete the message."""

    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"

    @property
    def ack(self) -> bool:
        # DEAD_LETTER keeps the message so SQS moves it to the DLQ after this last receive.
        return self in (Outcome.COMPLETED, Outcome.FAILED, Outcome.SKIPPED)


@dataclass(frozen=True)
class JobRef:
    """The parsed body: which request, for which tenant."""

    request_id: str
    tenant_id: str


@dataclass(frozen=True)
class JobMessage:
    """One delivery of a job, whichever entry point received it."""

    message_id: str
    body: str
    receive_count: int
    sent_at: datetime | None = None
    # W3C trace context of the gateway's send (SQS message attribute), when traced.
    traceparent: str | None = None


@dataclass(frozen=True)
class JobResult:
    """The core's verdict on one delivery."""

    outcome: Outcome
    request_id: str | None
    retry_after: float | None = None
    reason: str = ""


def parse_job_body(body: str) -> JobRef:
    """Parse and check a message body; MalformedJobMessage says what was wrong."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedJobMessage(f"job message is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("v") != JOB_MESSAGE_VERSION:
        raise MalformedJobMessage(
            f'job message must be a JSON object with "v": {JOB_MESSAGE_VERSION}; '
            "was the gateway upgraded without the worker?"
        )
    request_id, tenant_id = data.get("id"), data.get("tenant")
    if not isinstance(request_id, str) or not request_id or not isinstance(tenant_id, str):
        raise MalformedJobMessage('job message needs string "id" and "tenant" fields')
    return JobRef(request_id=request_id, tenant_id=tenant_id)


def sent_at_from_millis(value: str | int | None) -> datetime | None:
    """SQS ``SentTimestamp`` (epoch milliseconds) as a UTC datetime."""
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
