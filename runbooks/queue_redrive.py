"""`agatha queue redrive`: move dead-lettered jobs back to the inference queue.

Native path: SQS ``start_message_move_task`` (moves everything, server-side). Fallback
(``--max`` or ``--method manual``): receive -> send to the source -> delete from the DLQ.
A message is deleted only after its send succeeded (never lost) and is sent at most once
per run (dedupe by MessageId: a message whose delete failed and that comes back is only
deleted), so nothing is duplicated by the tool itself.
"""

from __future__ import annotations

from typing import Any

from runbooks.context import OpsContext
from runbooks.errors import AwsOperationError, PreconditionFailed
from runbooks.procedure import run_procedure
from runbooks.queues import peek, queue_depth, receive
from runbooks.steps import Step

ACTION = "queue redrive"
VISIBILITY_SECONDS = 120
_NATIVE_UNSUPPORTED = frozenset({"UnsupportedOperation", "InvalidAction", "500", "501"})


def move_manually(ctx: OpsContext, *, dlq_url: str, source_url: str, limit: int) -> dict[str, Any]:
    """Receive-send-delete up to ``limit`` messages; returns counts."""
    sent: set[str] = set()
    deleted: set[str] = set()
    counts = {"moved": 0, "duplicates_deleted": 0}
    for _ in range(2 * limit + 10):  # each pass handles >= 1 message or ends the loop
        batch = receive(
            ctx.aws,
            dlq_url,
            count=min(10, max(limit - counts["moved"], 1)),
            visibility=VISIBILITY_SECONDS,
        )
        batch = [m for m in batch if m["MessageId"] not in sent or m["MessageId"] not in deleted]
        if not batch or (
            counts["moved"] >= limit and all(m["MessageId"] not in sent for m in batch)
        ):
            _release(ctx, dlq_url, [m for m in batch if m["MessageId"] not in sent])
            break
        for message in batch:
            message_id = message["MessageId"]
            if message_id in sent:
                counts["duplicates_deleted"] += 1
            elif counts["moved"] < limit:
                _send_copy(ctx, source_url, message)
                sent.add(message_id)
                counts["moved"] += 1
            else:
                _release(ctx, dlq_url, [message])
                continue
            if _delete(ctx, dlq_url, message):
                deleted.add(message_id)
    return {**counts, "sent_not_deleted": sorted(sent - deleted)}


def _delete(ctx: OpsContext, url: str, message: dict[str, Any]) -> bool:
    """Delete after a successful send; on failure make it visible again to retry the delete."""
    try:
        ctx.aws.call(
            "sqs",
            "delete_message",
            resource=url,
            QueueUrl=url,
            ReceiptHandle=message["ReceiptHandle"],
        )
    except AwsOperationError as exc:
        ctx.log(
            f"delete of {message['MessageId']} failed ({exc.code}); it was already sent, "
            "so it will only be deleted when it comes back"
        )
        _release(ctx, url, [message])
        return False
    return True


def _release(ctx: OpsContext, url: str, messages: list[dict[str, Any]]) -> None:
    """Best effort: make messages visible again now instead of after the timeout."""
    for message in messages:
        try:
            ctx.aws.call(
                "sqs",
                "change_message_visibility",
                resource=url,
                QueueUrl=url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )
        except AwsOperationError:
            ctx.log(f"could not release {message['MessageId']}; it reappears after its timeout")


def _send_copy(ctx: OpsContext, url: str, message: dict[str, Any]) -> None:
    params: dict[str, Any] = {"QueueUrl": url, "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        params["MessageAttributes"] = message["MessageAttributes"]
    group = message.get("Attributes", {}).get("MessageGroupId")
    if group:  # FIFO: keep ordering group and reuse the id as deduplication id
        params.update(MessageGroupId=group, MessageDeduplicationId=message["MessageId"])
    ctx.aws.call("sqs", "send_message", resource=url, **params)


def move_natively(ctx: OpsContext, *, dlq_arn: str, source_arn: str, timeout: float) -> None:
    """Start an SQS message-move task and wait for it to finish."""
    handle = ctx.aws.call(
        "sqs",
        "start_message_move_task",
        resource=dlq_arn,
        SourceArn=dlq_arn,
        DestinationArn=source_arn,
    )["TaskHandle"]

    def finished() -> tuple[bool, str]:
        tasks = ctx.aws.call(
            "sqs", "list_message_move_tasks", resource=dlq_arn, SourceArn=dlq_arn, MaxResults=1
        )["Results"]
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        status = str(task.get("Status", "UNKNOWN"))
        if status in {"FAILED", "CANCELLED"}:
            raise PreconditionFailed(
                f"message move task {status}: {task.get('FailureReason', '')}; "
                "re-run (moved messages are gone from the DLQ)"
            )
        moved = task.get("ApproximateNumberOfMessagesMoved", 0)
        return status == "COMPLETED", f"{status}, {moved} moved"

    ctx.waiter.until(
        finished,
        what="SQS message move task",
        timeout=timeout,
        fix="the task keeps running server-side; check `agatha queue inspect`",
    )


def do_queue_redrive(
    ctx: OpsContext, *, max_messages: int | None = None, method: str = "auto", timeout: float = 900
) -> dict[str, Any]:
    """Move DLQ messages back to the inference queue."""
    dlq_url, source_url = ctx.outputs.get("dlq-url"), ctx.outputs.get("queue-url")
    dlq, source = queue_depth(ctx.aws, dlq_url), queue_depth(ctx.aws, source_url)
    use_native = method == "native" or (method == "auto" and max_messages is None)
    limit = max_messages if max_messages is not None else max(dlq.visible, 1)
    result: dict[str, Any] = {"method": "native" if use_native else "manual"}
    if ctx.dry_run:
        result["would_move"] = [
            {
                "message_id": m["MessageId"],
                "body": m["Body"][:120],
                "receive_count": m.get("Attributes", {}).get("ApproximateReceiveCount"),
            }
            for m in peek(ctx.aws, dlq_url, limit=min(limit, 50))
        ]

    def run() -> None:
        if use_native:
            try:
                move_natively(ctx, dlq_arn=dlq.arn, source_arn=source.arn, timeout=timeout)
                return
            except AwsOperationError as exc:
                if method == "native" or exc.code not in _NATIVE_UNSUPPORTED:
                    raise
                ctx.log(f"native message move unavailable ({exc.code}); moving one by one")
                result["method"] = "manual"
        result.update(move_manually(ctx, dlq_url=dlq_url, source_url=source_url, limit=limit))

    how = "start_message_move_task" if use_native else f"receive-send-delete (max {limit})"
    steps = [Step("redrive", f"move messages {dlq_url} -> {source_url} via {how}", run)]
    report = run_procedure(
        ctx,
        action=ACTION,
        target=f"{dlq_url} -> {source_url}",
        steps=steps,
        summarize=lambda: {
            **result,
            "dlq_depth_before": dlq.visible,
            "dlq_depth_after": queue_depth(ctx.aws, dlq_url).visible,
        },
    )
    return {**result, **report}
