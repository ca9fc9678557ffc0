"""The embedded platform: with nothing configured the gateway runs on moto + SQLite."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.aws import boto3_client, read_secret_json
from app.gateway import create_app
from app.gateway.ids import is_request_id, new_request_id
from app.local_aws import (
    create_local_resources,
    default_layout,
    generated_jwt_secret,
    with_local_resources,
)
from app.settings import Settings


async def test_gateway_starts_with_nothing_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ENDPOINT_URL", "QUEUE_URL", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(Settings(local_data_dir=tmp_path / ".agatha", log_level="ERROR"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            ready = await client.get("/readyz")
        gateway = app.state.gateway
        assert gateway.settings.aws_endpoint_url.startswith("http://127.0.0.1:")
        assert gateway.settings.queue_url.endswith("/agatha-local-jobs")
    assert ready.status_code == 200, ready.text
    assert (tmp_path / ".agatha" / "agatha.db").exists()


def test_request_ids_have_the_public_format() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100 and all(is_request_id(i) and len(i) == 30 for i in ids)


def test_local_aws_imports_no_pulumi_sdk() -> None:
    code = "import app.local_aws, sys; print([m for m in sys.modules if m.startswith('pulumi')])"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def _moto_queue(queue_arn: str) -> Any:
    # moto stores RedriveAllowPolicy but GetQueueAttributes does not return it; the session's
    # moto server runs in this process, so its backend shows what was set.
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = queue_arn.split(":")
    return sqs_backends[account][region].queues[name]


def test_local_resources_follow_the_default_layout(aws_env: str) -> None:
    settings = Settings(aws_endpoint_url=aws_env)
    layout = default_layout(f"la-{uuid.uuid4().hex[:6]}")
    created = create_local_resources(settings, layout)
    sqs = boto3_client(settings, "sqs")
    queue = sqs.get_queue_attributes(QueueUrl=created.queue_url, AttributeNames=["All"])
    dlq = sqs.get_queue_attributes(QueueUrl=created.dlq_url, AttributeNames=["All"])
    queue_attributes, dlq_attributes = queue["Attributes"], dlq["Attributes"]
    assert json.loads(queue_attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_attributes["QueueArn"],
        "maxReceiveCount": layout.max_receive_count,
    }
    assert queue_attributes["VisibilityTimeout"] == str(layout.visibility_timeout_seconds)
    assert json.loads(_moto_queue(dlq_attributes["QueueArn"]).redrive_allow_policy) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [queue_attributes["QueueArn"]],
    }
    assert (
        dlq_attributes["MessageRetentionPeriod"] == layout.dlq_attributes["MessageRetentionPeriod"]
    )
    assert created.archive_bucket == layout.archive_bucket
    assert f":secret:{layout.jwt_secret_name}-" in created.jwt_signing_secret_arn
    assert created.provider_secret_arns == {}


def test_creating_local_resources_twice_keeps_the_jwt_key_and_replaces_given_values(
    aws_env: str,
) -> None:
    settings = Settings(aws_endpoint_url=aws_env)
    prefix = f"la-{uuid.uuid4().hex[:6]}"
    first = create_local_resources(settings, prefix=prefix)
    key_set = read_secret_json(settings, first.jwt_signing_secret_arn)
    again = create_local_resources(settings, prefix=prefix)
    assert again == first
    assert read_secret_json(settings, again.jwt_signing_secret_arn) == key_set
    given = generated_jwt_secret("given")
    third = create_local_resources(
        settings, prefix=prefix, jwt_key_set=given, provider_keys={"google": '{"api_key": "g"}'}
    )
    assert third.jwt_signing_secret_arn == first.jwt_signing_secret_arn
    assert read_secret_json(settings, third.jwt_signing_secret_arn) == json.loads(given)
    assert read_secret_json(settings, third.provider_secret_arns["google"]) == {"api_key": "g"}


def test_explicit_settings_win_over_created_resources(aws_env: str) -> None:
    base = Settings(aws_endpoint_url=aws_env)
    created = create_local_resources(base, prefix=f"la-{uuid.uuid4().hex[:6]}")
    explicit = base.model_copy(
        update={"archive_bucket": "mine", "google_secret_arn": "arn:explicit"}
    )
    resolved = with_local_resources(
        explicit,
        dataclasses.replace(created, provider_secret_arns={"google": "arn:made"}),
    )
    assert resolved.archive_bucket == "mine"
    assert resolved.google_secret_arn == "arn:explicit"
    assert resolved.queue_url == created.queue_url
