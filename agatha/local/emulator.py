"""The AWS side of the local platform: moto on 127.0.0.1 and the resources of the layout.

Resolution order (environment switches each part to the real thing, no code change):
``QUEUE_URL`` set -> the resources already exist (real AWS or a shared emulator): use as is;
``AWS_ENDPOINT_URL`` set -> create the layout's resources there; otherwise start moto
in-process and create them in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agatha.local.layout import LocalLayout
from app.settings import Settings

PROVIDER_KEY_FIELDS = {p: f"{p}_api_key" for p in ("openai", "anthropic", "together", "google")}


@dataclass(frozen=True)
class CreatedResources:
    """Identifiers of what ``create_resources`` made."""

    queue_url: str
    dlq_url: str
    archive_bucket: str
    jwt_signing_secret_arn: str
    provider_secret_arns: dict[str, str]


def create_resources(
    settings: Settings, layout: LocalLayout, *, jwt_key_set: str, provider_keys: dict[str, str]
) -> CreatedResources:
    """Create (idempotently) the queue + DLQ, the archive bucket and the secrets."""
    from app.aws import boto3_client

    sqs = boto3_client(settings, "sqs")
    dlq_url = sqs.create_queue(QueueName=layout.dlq_name, Attributes=layout.dlq_attributes)[
        "QueueUrl"
    ]
    dlq_arn = _queue_arn(sqs, dlq_url)
    attributes = layout.queue_attributes | {"RedrivePolicy": layout.redrive_policy(dlq_arn)}
    queue_url = sqs.create_queue(QueueName=layout.queue_name, Attributes=attributes)["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=dlq_url,
        Attributes={"RedriveAllowPolicy": layout.redrive_allow_policy(_queue_arn(sqs, queue_url))},
    )
    s3 = boto3_client(settings, "s3")
    if layout.archive_bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=layout.archive_bucket)
    secrets = boto3_client(settings, "secretsmanager")
    return CreatedResources(
        queue_url=queue_url,
        dlq_url=dlq_url,
        archive_bucket=layout.archive_bucket,
        jwt_signing_secret_arn=_put_secret(secrets, layout.jwt_secret_name, jwt_key_set),
        provider_secret_arns={
            provider: _put_secret(secrets, layout.provider_secret_names[provider], key)
            for provider, key in provider_keys.items()
        },
    )


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _put_secret(client: Any, name: str, value: str) -> str:
    try:
        arn = str(client.describe_secret(SecretId=name)["ARN"])
    except client.exceptions.ResourceNotFoundException:
        return str(client.create_secret(Name=name, SecretString=value)["ARN"])
    client.put_secret_value(SecretId=arn, SecretString=value)
    return arn


def provider_keys_from(settings: Settings) -> dict[str, str]:
    """Provider keys given as ``*_API_KEY`` (they go into the emulated secrets)."""
    keys: dict[str, str] = {}
    for provider, attribute in PROVIDER_KEY_FIELDS.items():
        value = getattr(settings, attribute)
        if value is not None and value.get_secret_value():
            keys[provider] = json.dumps({"api_key": value.get_secret_value()})
    return keys


def resolved_settings(settings: Settings, created: CreatedResources) -> Settings:
    """Settings pointing at ``created``; keys move from env overrides to secret ARNs.

    Reading provider keys through Secrets Manager exercises the same path as the cloud.
    """
    update: dict[str, Any] = {
        "queue_url": created.queue_url,
        "dlq_url": created.dlq_url,
        "archive_bucket": created.archive_bucket,
        "jwt_signing_secret_arn": created.jwt_signing_secret_arn,
    }
    for provider, arn in created.provider_secret_arns.items():
        update[f"{provider}_secret_arn"] = arn
        update[PROVIDER_KEY_FIELDS[provider]] = None
    return settings.model_copy(update=update)


@contextmanager
def local_aws(settings: Settings, layout: LocalLayout, *, jwt_key_file: Path) -> Iterator[Settings]:
    """Yield settings whose AWS resources exist, running moto while the block runs."""
    if settings.queue_url:
        yield settings
        return
    server: Any = None
    if settings.aws_endpoint_url is None:
        from app.local_aws import start_moto_server

        url, server = start_moto_server()
        settings = settings.model_copy(update={"aws_endpoint_url": url})
    try:
        created = create_resources(
            settings,
            layout,
            jwt_key_set=jwt_key_set(jwt_key_file),
            provider_keys=provider_keys_from(settings),
        )
        yield resolved_settings(settings, created)
    finally:
        if server is not None:
            server.stop()


def jwt_key_set(path: Path) -> str:
    """The persisted JWT key set (generated once, owner-only), so tokens survive restarts."""
    from agatha.local.state import write_secret_file
    from app.local_aws import generated_jwt_secret

    if not path.exists():
        write_secret_file(path, generated_jwt_secret())
    return path.read_text(encoding="utf-8")
