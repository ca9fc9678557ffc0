"""The one place that builds AWS clients (boto3 and aiobotocore).

Every client honours ``AWS_ENDPOINT_URL`` (the emulator) and carries a fixed
``user_agent``: botocore otherwise rebuilds the User-Agent twice per call, which costs
~30 us on the gateway's hot path.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from app.errors import ConfigurationError

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

    from app.settings import Settings

USER_AGENT = "agatha-app/0.1"


def client_config(*, max_pool_connections: int = 32, read_timeout: float = 10) -> Config:
    """botocore config shared by sync and async clients.

    The short default read timeout keeps the gateway's hot path from hanging; long-polling
    receivers must pass one above their wait time.
    """
    return Config(
        user_agent=USER_AGENT,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=max_pool_connections,
        connect_timeout=2,
        read_timeout=read_timeout,
    )


def client_kwargs(settings: Settings, *, read_timeout: float = 10) -> dict[str, Any]:
    """Keyword arguments for ``boto3.client``/``AioSession.create_client``."""
    kwargs: dict[str, Any] = {
        "region_name": settings.aws_region,
        "config": client_config(read_timeout=read_timeout),
    }
    if settings.aws_endpoint_url:
        kwargs["endpoint_url"] = settings.aws_endpoint_url
        # An emulator accepts any credentials; local runs often have none configured.
        if boto3.Session().get_credentials() is None:
            kwargs["aws_access_key_id"] = "local"
            kwargs["aws_secret_access_key"] = "local"
    return kwargs


def boto3_client(settings: Settings, service: str) -> Any:
    """A synchronous boto3 client (start-up, admin paths, tests)."""
    return boto3.client(service, **client_kwargs(settings))  # type: ignore[call-overload]


def aio_session() -> AioSession:
    """A fresh aiobotocore session (one per process component; clients are long-lived)."""
    from aiobotocore.session import get_session

    return get_session()


def read_secret_json(settings: Settings, secret_arn: str) -> dict[str, Any]:
    """Read a Secrets Manager secret (AWSCURRENT) and parse its JSON value."""
    client = boto3_client(settings, "secretsmanager")
    value = client.get_secret_value(SecretId=secret_arn, VersionStage="AWSCURRENT")
    try:
        parsed = json.loads(value["SecretString"])
    except (KeyError, ValueError) as exc:
        raise ConfigurationError(
            f"secret {secret_arn} is not a JSON string; store it as a JSON object"
        ) from exc
    if not isinstance(parsed, dict):
        raise ConfigurationError(f"secret {secret_arn} must hold a JSON object")
    return parsed
