"""The app environment builder: every contract name, identifiers only (no Pulumi engine)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from components.compute_env import (
    APP_ENV_PROVIDED,
    LAMBDA_RESERVED_ENV,
    AppEnvSettings,
    app_environment,
    lambda_environment,
    require_no_plain_secrets,
    secret_looking_names,
)

# CONTRACTS.md "App environment", cloud names (local overrides excluded).
CONTRACT_CLOUD_NAMES = {
    "AGATHA_ENV", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_SECRET_ARN",
    "REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "REDIS_AUTH_SECRET_ARN", "QUEUE_URL", "DLQ_URL",
    "ARCHIVE_BUCKET", "EVENTS_TOPIC_ARN", "JWT_SIGNING_SECRET_ARN", "JWT_ISSUER",
    "JWT_AUDIENCE", "OPENAI_SECRET_ARN", "ANTHROPIC_SECRET_ARN", "TOGETHER_SECRET_ARN",
    "GOOGLE_SECRET_ARN", "AWS_REGION", "LOG_LEVEL",
}  # fmt: skip
LOCAL_OVERRIDES = {
    "DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TOGETHER_API_KEY",
    "GOOGLE_API_KEY", "AWS_ENDPOINT_URL",
}  # fmt: skip


def fake_data() -> SimpleNamespace:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}-AbCdEf".format
    return SimpleNamespace(
        db_endpoint="db.cluster-abc.us-east-1.rds.amazonaws.com",
        db_port=5432,
        db_name="agatha",
        db_master_secret_arn=secret("rds"),
        cache_primary_endpoint="master.cache.use1.cache.amazonaws.com",
        cache_port=6379,
        cache_auth_secret_arn=secret("redis-auth"),
        queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
        dlq_url="https://sqs.us-east-1.amazonaws.com/123456789012/jobs-dlq",
        archive_bucket_name="agatha-dev-archive",
        events_topic_arn="arn:aws:sns:us-east-1:123456789012:events",
        jwt_signing_secret_arn=secret("jwt"),
        provider_secret_arns={p: secret(p) for p in ("openai", "anthropic", "together", "google")},
    )


def build() -> dict[str, object]:
    settings = AppEnvSettings(
        environment="dev",
        region="us-east-1",
        log_level="INFO",
        jwt_issuer="https://api.dev.agatha.ai",
        jwt_audience="agatha-api",
    )
    return dict(app_environment(settings, fake_data()))


def test_app_env_provided_matches_the_contract_cloud_list() -> None:
    assert APP_ENV_PROVIDED == CONTRACT_CLOUD_NAMES
    assert not APP_ENV_PROVIDED & LOCAL_OVERRIDES


def test_environment_sets_exactly_the_provided_names_as_strings() -> None:
    env = build()
    assert set(env) == APP_ENV_PROVIDED
    assert all(isinstance(value, str) for value in env.values())
    assert env["DATABASE_PORT"] == "5432"
    assert env["REDIS_PORT"] == "6379"
    assert env["REDIS_TLS"] == "true"
    assert env["OPENAI_SECRET_ARN"].endswith("secret:openai-AbCdEf")


def test_lambda_environment_leaves_reserved_names_to_the_runtime() -> None:
    env = lambda_environment(build())
    assert "AWS_REGION" not in env
    assert set(env) == APP_ENV_PROVIDED - LAMBDA_RESERVED_ENV


def test_secret_arn_names_are_references_not_secret_values() -> None:
    assert secret_looking_names(build()) == []
    assert secret_looking_names(["OPENAI_API_KEY", "DB_PASSWORD", "QUEUE_URL", "X_TOKEN"]) == [
        "DB_PASSWORD",
        "OPENAI_API_KEY",
        "X_TOKEN",
    ]


def test_plain_secret_in_environment_is_refused_with_a_fix() -> None:
    with pytest.raises(ValueError, match=r"\['STRIPE_API_KEY'\].*Secrets Manager"):
        require_no_plain_secrets({"STRIPE_API_KEY": "sk_live_x"}, where="gateway")
