"""Embedded AWS for local runs and tests: moto in-process plus the resources the app needs.

``LocalLayout`` names the job queue and its DLQ, the archive bucket and the secrets, with
the queue settings; ``create_local_resources`` creates them (idempotently) wherever the
settings point. ``embedded_aws(settings)`` starts ``moto.server.ThreadedMotoServer`` on
127.0.0.1 when nothing points at AWS, creates the resources and yields settings that point
at them. The gateway and the worker use it standalone; ``agatha local up`` creates the same
resources through ``agatha.local.emulator``, so every process sees one emulated account.

The app cannot import ``components/`` (it would pull in the Pulumi SDK), so
``default_layout`` repeats the data layer's dev defaults as constants;
``agatha.local.layout`` builds the layout from the data layer's own definitions and
``tests/agatha/local/test_layout.py`` fails when the two drift.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from app.aws import boto3_client
from app.settings import Settings

DEFAULT_PREFIX = "agatha-local"
PROVIDERS: tuple[str, ...] = ("openai", "anthropic", "together", "google")

# The data layer's dev defaults (DataConfig, ComputeConfig, components/data_messaging.py).
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 720  # 6 x the default worker timeout of 120 s
DEFAULT_QUEUE_RETENTION_SECONDS = 345_600
LONG_POLL_SECONDS = 20
DLQ_RETENTION_SECONDS = 1_209_600


@dataclass(frozen=True)
class LocalLayout:
    """Names and settings of the emulated queue pair, bucket and secrets."""

    prefix: str
    queue_name: str
    dlq_name: str
    archive_bucket: str
    jwt_secret_name: str
    provider_secret_names: dict[str, str]
    max_receive_count: int
    visibility_timeout_seconds: int
    queue_attributes: dict[str, str] = field(default_factory=dict)
    dlq_attributes: dict[str, str] = field(default_factory=dict)

    def redrive_policy(self, dlq_arn: str) -> str:
        """The job queue's RedrivePolicy attribute (AWS wire format) for the given DLQ."""
        return json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.max_receive_count}
        )

    def redrive_allow_policy(self, queue_arn: str) -> str:
        """The DLQ's RedriveAllowPolicy attribute (dead letters from our queue only)."""
        return json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn]})


def default_layout(prefix: str = DEFAULT_PREFIX) -> LocalLayout:
    """The layout the data layer deploys with its default settings, under ``prefix``."""
    return LocalLayout(
        prefix=prefix,
        queue_name=f"{prefix}-jobs",
        dlq_name=f"{prefix}-jobs-dlq",
        archive_bucket=f"{prefix}-archive",
        jwt_secret_name=f"{prefix}/jwt/signing-keys",
        provider_secret_names={p: f"{prefix}/providers/{p}" for p in PROVIDERS},
        max_receive_count=DEFAULT_MAX_RECEIVE_COUNT,
        visibility_timeout_seconds=DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
        queue_attributes={
            "VisibilityTimeout": str(DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
            "MessageRetentionPeriod": str(DEFAULT_QUEUE_RETENTION_SECONDS),
            "ReceiveMessageWaitTimeSeconds": str(LONG_POLL_SECONDS),
        },
        dlq_attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
    )


@dataclass(frozen=True)
class LocalResources:
    """Identifiers of the emulated resources."""

    queue_url: str
    dlq_url: str
    archive_bucket: str
    jwt_signing_secret_arn: str
    provider_secret_arns: dict[str, str] = field(default_factory=dict)


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


def create_local_resources(
    settings: Settings,
    layout: LocalLayout | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    jwt_key_set: str | None = None,
    provider_keys: Mapping[str, str] | None = None,
) -> LocalResources:
    """Create (idempotently) the queue + DLQ, the archive bucket and the secrets.

    Without ``layout`` the ``default_layout(prefix)`` is used. Without ``jwt_key_set`` an
    existing JWT secret keeps its value (a new one gets a generated key set); given values
    (``jwt_key_set``, ``provider_keys`` by provider) replace what the secrets hold.
    """
    layout = layout or default_layout(prefix)
    queue_url, dlq_url = _create_queue_pair(settings, layout)
    _ensure_bucket(settings, layout.archive_bucket)
    client = boto3_client(settings, "secretsmanager")
    if jwt_key_set is None:
        jwt_arn = _ensure_secret(client, layout.jwt_secret_name, generated_jwt_secret())
    else:
        jwt_arn = _put_secret(client, layout.jwt_secret_name, jwt_key_set)
    return LocalResources(
        queue_url=queue_url,
        dlq_url=dlq_url,
        archive_bucket=layout.archive_bucket,
        jwt_signing_secret_arn=jwt_arn,
        provider_secret_arns={
            provider: _put_secret(client, layout.provider_secret_names[provider], value)
            for provider, value in (provider_keys or {}).items()
        },
    )


def _create_queue_pair(settings: Settings, layout: LocalLayout) -> tuple[str, str]:
    sqs = boto3_client(settings, "sqs")
    dlq_url = sqs.create_queue(QueueName=layout.dlq_name, Attributes=layout.dlq_attributes)[
        "QueueUrl"
    ]
    attributes = layout.queue_attributes | {
        "RedrivePolicy": layout.redrive_policy(_queue_arn(sqs, dlq_url))
    }
    queue_url = sqs.create_queue(QueueName=layout.queue_name, Attributes=attributes)["QueueUrl"]
    # Set after both exist: the DLQ's allow policy needs the source queue's ARN.
    sqs.set_queue_attributes(
        QueueUrl=dlq_url,
        Attributes={"RedriveAllowPolicy": layout.redrive_allow_policy(_queue_arn(sqs, queue_url))},
    )
    return str(queue_url), str(dlq_url)


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _ensure_bucket(settings: Settings, bucket: str) -> None:
    s3 = boto3_client(settings, "s3")
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)


def _ensure_secret(client: Any, name: str, initial_value: str) -> str:
    try:
        return str(client.describe_secret(SecretId=name)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        return str(client.create_secret(Name=name, SecretString=initial_value)["ARN"])


def _put_secret(client: Any, name: str, value: str) -> str:
    try:
        arn = str(client.describe_secret(SecretId=name)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        return str(client.create_secret(Name=name, SecretString=value)["ARN"])
    client.put_secret_value(SecretId=arn, SecretString=value)
    return arn


def with_local_resources(settings: Settings, resources: LocalResources) -> Settings:
    """Settings pointing at ``resources`` (values already set explicitly win)."""
    update: dict[str, Any] = {
        "queue_url": settings.queue_url or resources.queue_url,
        "dlq_url": settings.dlq_url or resources.dlq_url,
        "archive_bucket": settings.archive_bucket or resources.archive_bucket,
        "jwt_signing_secret_arn": settings.jwt_signing_secret_arn
        or resources.jwt_signing_secret_arn,
    }
    for provider, arn in resources.provider_secret_arns.items():
        attribute = f"{provider}_secret_arn"
        update[attribute] = getattr(settings, attribute) or arn
    return settings.model_copy(update=update)


@contextmanager
def emulated_endpoint(settings: Settings) -> Iterator[Settings]:
    """Yield settings with an AWS endpoint: moto on 127.0.0.1 for the block if none is set."""
    if settings.aws_endpoint_url is not None:
        yield settings
        return
    url, server = start_moto_server()
    try:
        yield settings.model_copy(update={"aws_endpoint_url": url})
    finally:
        server.stop()  # type: ignore[attr-defined]


@contextmanager
def embedded_aws(
    settings: Settings, *, prefix: str = DEFAULT_PREFIX, layout: LocalLayout | None = None
) -> Iterator[Settings]:
    """Yield settings with working AWS resources, starting moto in-process if needed.

    Outside development environments the settings are yielded unchanged: the cloud
    provides every resource and nothing is created.
    """
    if not settings.is_development or (settings.queue_url and settings.jwt_signing_secret_arn):
        yield settings
        return
    with emulated_endpoint(settings) as endpoint:
        created = create_local_resources(endpoint, layout, prefix=prefix)
        yield with_local_resources(endpoint, created)
