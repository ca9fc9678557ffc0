"""Secrets Manager secrets created empty: values are set out of band, never in code.

No ``SecretVersion`` is declared for these, so Pulumi never holds or overwrites a value;
``agatha rotate ...`` puts the first and every later value.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config.data import DataConfig
from components.published_outputs import PROVIDER_SECRETS, SERVICE_SECRETS


@dataclass(frozen=True)
class SecretSpec:
    """Where one secret lives and how an operator sets it."""

    key: str
    path: str
    description: str


@dataclass(frozen=True)
class Secrets:
    """The empty secrets by kind."""

    jwt_signing: aws.secretsmanager.Secret
    providers: dict[str, aws.secretsmanager.Secret]
    services: dict[str, aws.secretsmanager.Secret]


def jwt_secret_spec(name: str) -> SecretSpec:
    """The JWT signing-keys secret."""
    return SecretSpec(
        key="jwt-signing",
        path=f"{name}/jwt/signing-keys",
        description=(
            "JWT signing keys of the gateway (current and previous). Set and rotate with "
            "`agatha rotate jwt-signing-key`."
        ),
    )


def provider_secret_spec(name: str, provider: str) -> SecretSpec:
    """The API-key secret of one LLM provider."""
    return SecretSpec(
        key=provider,
        path=f"{name}/providers/{provider}",
        description=(
            f"{provider} API key. Set it with `agatha rotate provider-key --provider "
            f"{provider}` (value read from stdin, never an argument)."
        ),
    )


def service_secret_spec(name: str, service: str) -> SecretSpec:
    """The credentials secret of one payment or messaging service."""
    return SecretSpec(
        key=service,
        path=f"{name}/services/{service}",
        description=(
            f"{service} credentials. Set them with `agatha rotate provider-key --provider "
            f"{service}` (value read from stdin, never an argument)."
        ),
    )


def create_secrets(
    name: str,
    *,
    config: DataConfig,
    platform_key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> Secrets:
    """Create the JWT, LLM-provider and service secrets, empty and under our key."""

    def secret(spec: SecretSpec) -> aws.secretsmanager.Secret:
        return aws.secretsmanager.Secret(
            f"{name}-secret-{spec.key}",
            name=spec.path,
            description=spec.description,
            kms_key_id=platform_key_arn,
            recovery_window_in_days=config.secret_recovery_window_days,
            tags=tags | {"Name": spec.path},
            opts=pulumi.ResourceOptions(parent=parent),
        )

    return Secrets(
        jwt_signing=secret(jwt_secret_spec(name)),
        providers={p: secret(provider_secret_spec(name, p)) for p in PROVIDER_SECRETS},
        services={s: secret(service_secret_spec(name, s)) for s in SERVICE_SECRETS},
    )
