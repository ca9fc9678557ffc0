from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from runbooks.aws import AwsSession
from runbooks.errors import AwsOperationError
from runbooks.queue_redrive import do_queue_redrive
from tests.runbooks.opskit import REGION, Platform, client, make_ctx


def _fill_dlq(platform: Platform, count: int) -> set[str]:
    bodies = {json.dumps({"v": 1, "id": f"req-{i}", "tenant": "t1"}) for i in range(count)}
    for body in bodies:
        client("sqs").send_message(QueueUrl=platform["dlq-url"], MessageBody=body)
    return bodies


def _drain(url: str) -> list[str]:
    bodies: list[str] = []
    for _ in range(10):
        batch = (
            client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        )
        if not batch:
            break
        bodies += [m["Body"] for m in batch]
    return bodies


def test_manual_redrive_moves_every_message_exactly_once(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    bodies = _fill_dlq(platform, 13)
    report = do_queue_redrive(make_ctx(aws, tmp_path), method="manual")
    moved = _drain(platform["queue-url"])
    assert sorted(moved) == sorted(bodies)
    assert _drain(platform["dlq-url"]) == []
    assert report["moved"] == 13


def test_max_limits_how_many_are_moved(aws: AwsSession, platform: Platform, tmp_path: Path) -> None:
    _fill_dlq(platform, 5)
    report = do_queue_redrive(make_ctx(aws, tmp_path), max_messages=2)
    assert report["method"] == "manual" and report["moved"] == 2
    assert len(_drain(platform["queue-url"])) == 2
    assert len(_drain(platform["dlq-url"])) == 3


class FlakyDelete(AwsSession):
    """Fails the first DeleteMessage, as a network blip after a successful send would."""

    failed = False

    def call(self, service: str, operation: str, /, *, resource: str, **params: Any) -> Any:
        if operation == "delete_message" and not self.failed:
            self.failed = True
            raise AwsOperationError("delete failed", code="InternalError")
        return super().call(service, operation, resource=resource, **params)


def test_failed_delete_never_duplicates_and_never_loses(
    aws_env: str, platform: Platform, tmp_path: Path
) -> None:
    bodies = _fill_dlq(platform, 3)
    report = do_queue_redrive(make_ctx(FlakyDelete(region=REGION), tmp_path), method="manual")
    moved = _drain(platform["queue-url"])
    assert sorted(moved) == sorted(bodies)
    assert _drain(platform["dlq-url"]) == []
    assert report["moved"] == 3 and report["duplicates_deleted"] == 1
    assert report["sent_not_deleted"] == []


def test_dry_run_lists_messages_and_moves_nothing(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    bodies = _fill_dlq(platform, 3)
    report = do_queue_redrive(make_ctx(aws, tmp_path, dry_run=True), method="manual")
    assert {m["body"] for m in report["would_move"]} == bodies
    assert _drain(platform["queue-url"]) == []
    assert sorted(_drain(platform["dlq-url"])) == sorted(bodies)


def test_native_move_task_is_started_and_awaited(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    """moto lacks SQS message-move tasks: the SQS calls of the native path are stubbed."""
    sqs = boto3.client("sqs", region_name=REGION)
    stub = Stubber(sqs)
    dlq_arn = f"arn:aws:sqs:{REGION}:123456789012:agatha-dev-jobs-dlq"
    src_arn = f"arn:aws:sqs:{REGION}:123456789012:agatha-dev-jobs"
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "QueueArn",
    ]
    for url, arn, depth in (
        (platform["dlq-url"], dlq_arn, "4"),
        (platform["queue-url"], src_arn, "0"),
    ):
        stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": arn, "ApproximateNumberOfMessages": depth}},
            {"QueueUrl": url, "AttributeNames": names},
        )
    stub.add_response(
        "start_message_move_task",
        {"TaskHandle": "h1"},
        {"SourceArn": dlq_arn, "DestinationArn": src_arn},
    )
    task = {"TaskHandle": "h1", "SourceArn": dlq_arn, "ApproximateNumberOfMessagesMoved": 2}
    stub.add_response("list_message_move_tasks", {"Results": [{**task, "Status": "RUNNING"}]})
    stub.add_response("list_message_move_tasks", {"Results": [{**task, "Status": "COMPLETED"}]})
    stub.add_response("get_queue_attributes", {"Attributes": {"ApproximateNumberOfMessages": "0"}})
    session = AwsSession(region=REGION, clients={"sqs": sqs})
    with stub:
        report = do_queue_redrive(make_ctx(session, tmp_path))
        stub.assert_no_pending_responses()
    assert report["method"] == "native"
    assert report["dlq_depth_before"] == 4 and report["dlq_depth_after"] == 0
