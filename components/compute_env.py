"""The app environment the compute layer gives the gateway and the worker.

Names follow CONTRACTS.md ("App environment"); ``app/settings.py`` reads the same names
and a test compares its ``CLOUD_PROVIDED_ENV`` with ``APP_ENV_PROVIDED``. Values are
identifiers only (hosts, ports, URLs, ARNs): secret values stay in Secrets Manager and
the app fetches them at runtime with its role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.published_outputs import PROVIDER_SECRETS

# Every name the compute component sets in the cloud. DATABASE_URL, REDIS_URL, the
# provider *_API_KEY names and AWS_ENDPOINT_URL are local overrides and never set here.
APP_ENV_PROVIDED: frozenset[str] = frozenset(
    {
        "AGATHA_ENV",
        "DATABASE_HOST",
        "DATABASE_PORT",
        "DATABASE_NAME",
        "DATABASE_SECRET_ARN",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_TLS",
        "REDIS_AUTH_SECRET_ARN",
        "QUEUE_URL",
        "DLQ_URL",
        "ARCHIVE_BUCKET",
        "EVENTS_TOPIC_ARN",
        "JWT_SIGNING_SECRET_ARN",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "OPENAI_SECRET_ARN",
        "ANTHROPIC_SECRET_ARN",
        "TOGETHER_SECRET_ARN",
        "GOOGLE_SECRET_ARN",
        "AWS_REGION",
        "LOG_LEVEL",
    }
)

# Lambda rejects functions that set its reserved variables; its runtime sets AWS_REGION.
LAMBDA_RESERVED_ENV: frozenset[str] = frozenset({"AWS_REGION"})

# Names that must never carry a plain value in a task definition or function.
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)")
# ...unless they only name where the secret lives.
_REFERENCE_SUFFIXES = ("_SECRET_ARN", "_SECRET_ID", "_SECRET_NAME")


@dataclass(frozen=True)
class AppEnvSettings:
    """The non-infrastructure values of the app environment (from stack config)."""

    environment: str
    region: pulumi.Input[str]
    log_level: str
    jwt_issuer: str
    jwt_audience: str


def app_environment(settings: AppEnvSettings, data: Any) -> dict[str, pulumi.Input[str]]:
    """The full cloud environment; ``data`` is the Data component (or a stand-in)."""
    env: dict[str, pulumi.Input[str]] = {
        "AGATHA_ENV": settings.environment,
        "AWS_REGION": settings.region,
        "LOG_LEVEL": settings.log_level,
        "DATABASE_HOST": data.db_endpoint,
        "DATABASE_PORT": as_text(data.db_port),
        "DATABASE_NAME": data.db_name,
        "DATABASE_SECRET_ARN": data.db_master_secret_arn,
        "REDIS_HOST": data.cache_primary_endpoint,
        "REDIS_PORT": as_text(data.cache_port),
        # The replication group has in-transit encryption on: plain connections fail.
        "REDIS_TLS": "true",
        "REDIS_AUTH_SECRET_ARN": data.cache_auth_secret_arn,
        "QUEUE_URL": data.queue_url,
        "DLQ_URL": data.dlq_url,
        "ARCHIVE_BUCKET": data.archive_bucket_name,
        "EVENTS_TOPIC_ARN": data.events_topic_arn,
        "JWT_SIGNING_SECRET_ARN": data.jwt_signing_secret_arn,
        "JWT_ISSUER": settings.jwt_issuer,
        "JWT_AUDIENCE": settings.jwt_audience,
    }
    for provider in PROVIDER_SECRETS:
        env[f"{provider.upper()}_SECRET_ARN"] = data.provider_secret_arns[provider]
    return env


def lambda_environment(env: Mapping[str, pulumi.Input[str]]) -> dict[str, pulumi.Input[str]]:
    """``env`` without the variables Lambda reserves for its runtime."""
    return {k: v for k, v in env.items() if k not in LAMBDA_RESERVED_ENV}


def as_text(value: pulumi.Input[Any]) -> pulumi.Input[str]:
    """A port or number as the string an environment variable must be."""
    if isinstance(value, pulumi.Output):
        return value.apply(str)
    return str(value)


def secret_looking_names(names: list[str] | Mapping[str, object]) -> list[str]:
    """Names that look like they hold a secret value rather than a reference to one."""
    return sorted(
        name
        for name in names
        if _SECRET_NAME.search(name.upper()) and not name.upper().endswith(_REFERENCE_SUFFIXES)
    )


def require_no_plain_secrets(env: Mapping[str, object], *, where: str) -> None:
    """Fail the preview when an environment would carry a secret value in plain text."""
    offending = secret_looking_names(env)
    if offending:
        raise ValueError(
            f"{where}: environment variables {offending} look like secret values; "
            "store the secret in Secrets Manager and pass its ARN (NAME_SECRET_ARN) "
            "or a container `secrets` reference instead"
        )
