"""The benchmark emulator's speed-ups keep moto's SQS answers unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

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
