"""Embedded AWS for local runs and tests: moto in-process plus the resources the app needs.

``embedded_aws(settings)`` starts ``moto.server.ThreadedMotoServer`` on 127.0.0.1 when
nothing points at AWS, creates the job queue (with its DLQ), the archive bucket and a JWT
signing secret, and yields settings that point at them. The worker and the local platform
reuse it, so every process talks to the same emulated resources.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.aws import boto3_client
from app.settings import Settings

DEFAULT_PREFIX = "agatha-local"
DLQ_MAX_RECEIVES = 3


@dataclass(frozen=True)
class LocalResources:
    """Identifiers of the emulated resources."""

    queue_url: str
    dlq_url: str
    archive_bucket: str
    jwt_signing_secret_arn: str


def start_moto_server() -> tuple[str, object]:
    """Start moto on a free 127.0.0.1 port; returns (endpoint URL, server with ``stop()``)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", server


def generated_jwt_secret(kid: str = "local-1") -> str:
    """A fresh JWT key-set JSON with one random HS256 key (never a placeholder)."""
    key = {"kid": kid, "secret": secrets.token_urlsafe(48), "alg": "HS256", "status": "current"}
    return json.dumps({"keys": [key]})


def create_local_resources(settings: Settings, *, prefix: str = DEFAULT_PREFIX) -> LocalResources:
    """Create (idempotently) the queue + DLQ, archive bucket and JWT secret."""
    sqs = boto3_client(settings, "sqs")
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": DLQ_MAX_RECEIVES})
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-jobs",
        Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "60"},
    )["QueueUrl"]
    s3 = boto3_client(settings, "s3")
    bucket = f"{prefix}-archive"
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    return LocalResources(
        queue_url=queue_url,
        dlq_url=dlq_url,
        archive_bucket=bucket,
        jwt_signing_secret_arn=_ensure_jwt_secret(settings, name=f"{prefix}/jwt-signing"),
    )


def _ensure_jwt_secret(settings: Settings, *, name: str) -> str:
    client = boto3_client(settings, "secretsmanager")
    try:
        return str(client.describe_secret(SecretId=name)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        return str(client.create_secret(Name=name, SecretString=generated_jwt_secret())["ARN"])


def with_local_resources(settings: Settings, resources: LocalResources) -> Settings:
    """Settings pointing at ``resources`` (values already set explicitly win)."""
    return settings.model_copy(
        update={
            "queue_url": settings.queue_url or resources.queue_url,
            "dlq_url": settings.dlq_url or resources.dlq_url,
            "archive_bucket": settings.archive_bucket or resources.archive_bucket,
            "jwt_signing_secret_arn": settings.jwt_signing_secret_arn
            or resources.jwt_signing_secret_arn,
        }
    )


@contextmanager
def embedded_aws(settings: Settings, *, prefix: str = DEFAULT_PREFIX) -> Iterator[Settings]:
    """Yield settings with working AWS resources, starting moto in-process if needed.

    Outside development environments the settings are yielded unchanged: the cloud
    provides every resource and nothing is created.
    """
    if not settings.is_development or (settings.queue_url and settings.jwt_signing_secret_arn):
        yield settings
        return
    server = None
    if settings.aws_endpoint_url is None:
        url, server = start_moto_server()
        settings = settings.model_copy(update={"aws_endpoint_url": url})
    try:
        yield with_local_resources(settings, create_local_resources(settings, prefix=prefix))
    finally:
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
