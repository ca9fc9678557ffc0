"""SQS helpers shared by queue redrive and inspect: attributes and non-destructive peeking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runbooks.aws import AwsSession

PEEK_VISIBILITY_SECONDS = 30


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    delayed: int
    arn: str


def queue_depth(aws: AwsSession, url: str) -> QueueDepth:
    """Approximate message counts and the ARN of a queue."""
    attributes = aws.call(
        "sqs",
        "get_queue_attributes",
        resource=url,
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
            "QueueArn",
        ],
    )["Attributes"]
    return QueueDepth(
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        arn=str(attributes.get("QueueArn", "")),
    )


def receive(aws: AwsSession, url: str, *, count: int, visibility: int) -> list[dict[str, Any]]:
    """One ReceiveMessage call of up to ``count`` (max 10) messages with all attributes."""
    response = aws.call(
        "sqs",
        "receive_message",
        resource=url,
        QueueUrl=url,
        MaxNumberOfMessages=max(1, min(count, 10)),
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def peek(aws: AwsSession, url: str, *, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` messages, made visible again right after (nothing is deleted)."""
    seen: dict[str, dict[str, Any]] = {}
    for _ in range((limit + 9) // 10 + 1):  # bounded: one extra call absorbs duplicates
        batch = receive(aws, url, count=limit - len(seen), visibility=PEEK_VISIBILITY_SECONDS)
        fresh = [m for m in batch if m["MessageId"] not in seen]
        seen.update({m["MessageId"]: m for m in fresh})
        if not fresh or len(seen) >= limit:
            break
    _release(aws, url, list(seen.values()))
    return list(seen.values())[:limit]


def _release(aws: AwsSession, url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        aws.call(
            "sqs",
            "change_message_visibility_batch",
            resource=url,
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


def sent_timestamp(message: dict[str, Any]) -> float | None:
    """When the message was first sent (seconds since epoch)."""
    raw = message.get("Attributes", {}).get("SentTimestamp")
    return int(raw) / 1000 if raw else None
