"""The benchmark emulator's speed-ups keep moto's SQS answers unchanged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bench.moto_server import ROUND8, SPEED_UPS, skipped
from bench.procs import PYTHON, Proc, free_port, procs, wait_for_port
from bench.procstat import cpu_seconds


@pytest.fixture(scope="module")
def patched_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Proc]]:
    log_dir: Path = tmp_path_factory.mktemp("moto")
    with procs(log_dir) as registry:
        port = free_port()
        proc = registry.spawn("moto", [PYTHON, "-m", "bench.moto_server", "--port", str(port)])
        wait_for_port(port, timeout=60, proc=proc)
        yield f"http://127.0.0.1:{port}", proc


@pytest.fixture(scope="module")
def round7_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Proc]]:
    """The emulator without the round-8 speed-ups: the reference they must not change."""
    log_dir: Path = tmp_path_factory.mktemp("moto-r7")
    with procs(log_dir) as registry:
        port = free_port()
        proc = registry.spawn(
            "moto-r7",
            [PYTHON, "-m", "bench.moto_server", "--port", str(port)],
            env={"MOTO_SPEEDUPS_SKIP": "round8"},
        )
        wait_for_port(port, timeout=60, proc=proc)
        yield f"http://127.0.0.1:{port}", proc


def _sqs(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _attributes(sqs: Any, url: str) -> dict[str, str]:
    found: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    return found


def test_counts_receive_delete_and_retention_behave_as_moto(patched_moto: tuple[str, Proc]) -> None:
    sqs = _sqs(patched_moto[0])
    url = sqs.create_queue(QueueName="speedups")["QueueUrl"]
    entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)]
    sent = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert len(sent["Successful"]) == 10
    attrs = _attributes(sqs, url)
    assert attrs["ApproximateNumberOfMessages"] == "10"
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=4)["Messages"]
    assert len(got) == 4
    attrs = _attributes(sqs, url)
    assert attrs["ApproximateNumberOfMessages"] == "6"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "4"
    handles = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    sqs.delete_message_batch(QueueUrl=url, Entries=handles)
    attrs = _attributes(sqs, url)
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    # The retention check (read from the queue's field now) still lets fresh messages out.
    short = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=short, MessageBody="x")
    assert len(sqs.receive_message(QueueUrl=short)["Messages"]) == 1


def test_fifo_queue_still_deduplicates_by_content(patched_moto: tuple[str, Proc]) -> None:
    sqs = _sqs(patched_moto[0])
    url = sqs.create_queue(
        QueueName="dedupe.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    attrs = _attributes(sqs, url)
    assert attrs["ApproximateNumberOfMessages"] == "1"


def test_send_cost_does_not_grow_with_queue_depth(patched_moto: tuple[str, Proc]) -> None:
    endpoint, proc = patched_moto
    sqs = _sqs(endpoint)
    url = sqs.create_queue(QueueName="deep")["QueueUrl"]
    entries = [{"Id": str(i), "MessageBody": "x"} for i in range(10)]

    def emulator_cpu_for(batches: int) -> float:
        start = cpu_seconds(proc.pid)
        for _ in range(batches):
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        return cpu_seconds(proc.pid) - start

    shallow = emulator_cpu_for(20)
    emulator_cpu_for(150)  # 1,500 messages deeper
    deep = emulator_cpu_for(20)
    # Stock moto 5.2 scans the whole queue three times per sent message (~10x here).
    assert deep < shallow * 3 + 0.05, (shallow, deep)


def test_connections_stay_open_between_calls(patched_moto: tuple[str, Proc]) -> None:
    """Keep-alive, as AWS answers: two calls on one TCP connection."""
    import http.client
    from urllib.parse import urlsplit

    endpoint = urlsplit(patched_moto[0])
    connection = http.client.HTTPConnection(endpoint.hostname or "", endpoint.port, timeout=10)
    try:
        for _ in range(2):
            connection.request("GET", "/moto-api/reset-auth")
            response = connection.getresponse()
            response.read()
            assert response.getheader("Connection", "").lower() != "close"
        first_socket = connection.sock
        connection.request("GET", "/moto-api/reset-auth")
        connection.getresponse().read()
        assert connection.sock is first_socket
    finally:
        connection.close()


def _receipt_story(endpoint: str, queue_name: str) -> dict[str, Any]:
    """Deletes by current, old, repeated, unknown and purged handles; what a client sees."""
    sqs = _sqs(endpoint)
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(6)]
    )
    # Received with no visibility timeout: visible again at once, handle now "old".
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=0)
    old = {m["Body"]: m["ReceiptHandle"] for m in first["Messages"]}
    time.sleep(0.01)
    current = {
        m["Body"]: m["ReceiptHandle"]
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)[
            "Messages"
        ]
    }
    story: dict[str, Any] = {"received": sorted(current), "old": sorted(old)}
    story["handles_ok"] = all(
        len(h) == 185 and h.isascii() and h.isalpha() and h.islower()
        for h in [*old.values(), *current.values()]
    )
    by_old_body, by_old = next(iter(old.items()))
    sqs.delete_message(QueueUrl=url, ReceiptHandle=by_old)  # an old handle still deletes
    sqs.delete_message(QueueUrl=url, ReceiptHandle=current[by_old_body])  # already deleted: ok
    others = [body for body in sorted(current) if body not in old]
    batch = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good", "ReceiptHandle": current[others[0]]},
            {"Id": "bogus", "ReceiptHandle": "x" * 185},
        ],
    )
    story["batch_ok"] = [e["Id"] for e in batch.get("Successful", [])]
    story["batch_failed"] = [(e["Id"], e["Code"]) for e in batch.get("Failed", [])]
    try:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    except ClientError as error:
        story["unknown"] = error.response["Error"]["Code"]
    attrs = _attributes(sqs, url)
    story["left"] = (
        attrs["ApproximateNumberOfMessages"],
        attrs["ApproximateNumberOfMessagesNotVisible"],
    )
    sqs.purge_queue(QueueUrl=url)
    try:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=current[others[1]])
    except ClientError as error:
        story["purged"] = error.response["Error"]["Code"]
    sqs.send_message(QueueUrl=url, MessageBody="after purge")
    again = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"])
    story["after_purge"] = _attributes(sqs, url)["ApproximateNumberOfMessagesNotVisible"]
    return story


def test_receipt_index_answers_as_moto_does(
    patched_moto: tuple[str, Proc], round7_moto: tuple[str, Proc]
) -> None:
    fast = _receipt_story(patched_moto[0], "receipts")
    reference = _receipt_story(round7_moto[0], "receipts")
    assert fast == reference
    assert fast["handles_ok"] is True
    assert fast["batch_ok"] == ["good"]
    assert fast["batch_failed"] == [("bogus", "ReceiptHandleIsInvalid")]
    assert fast["unknown"] == fast["purged"] == "ReceiptHandleIsInvalid"
    assert fast["left"] == ("0", "4")  # 6 sent, 2 deleted (one twice), 4 in flight
    assert fast["after_purge"] == "0"


def test_delete_cost_does_not_grow_with_queue_depth(patched_moto: tuple[str, Proc]) -> None:
    endpoint, proc = patched_moto
    sqs = _sqs(endpoint)
    url = sqs.create_queue(QueueName="deep-deletes")["QueueUrl"]
    entries = [{"Id": str(i), "MessageBody": "x"} for i in range(10)]

    def emulator_cpu_to_delete(batches: int) -> float:
        handles = []
        for _ in range(batches):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
            handles.append(got["Messages"])
        start = cpu_seconds(proc.pid)
        for messages in handles:
            done = sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
            assert len(done["Successful"]) == len(messages)
        return cpu_seconds(proc.pid) - start

    for _ in range(20):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    shallow = emulator_cpu_to_delete(15)  # 50 messages left
    for _ in range(150):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    deep = emulator_cpu_to_delete(15)  # 1,550 left
    # moto 5.2 scans the queue twice per deleted handle: ~5x here at 1,550 deep.
    assert deep < shallow * 2.5 + 0.05, (shallow, deep)


def test_reset_still_clears_the_emulator(patched_moto: tuple[str, Proc]) -> None:
    """The memoized backend registration must not hide moto's reset."""
    import urllib.request

    sqs = _sqs(patched_moto[0])
    sqs.create_queue(QueueName="before-reset")
    names = lambda: [u.rsplit("/", 1)[-1] for u in sqs.list_queues().get("QueueUrls", [])]  # noqa: E731
    assert "before-reset" in names()
    request = urllib.request.Request(f"{patched_moto[0]}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert names() == []
    sqs.create_queue(QueueName="after-reset")
    assert names() == ["after-reset"]


def test_skip_names_are_checked() -> None:
    assert skipped("round8, speed_up_sqs") == {*ROUND8, "speed_up_sqs"}
    assert skipped("") == set()
    assert set(ROUND8) <= set(SPEED_UPS)
    with pytest.raises(SystemExit, match="unknown speed-up 'speed_up_everything'"):
        skipped("speed_up_everything")
