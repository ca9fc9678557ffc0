"""The one settings object of the gateway and the worker (pydantic-settings).

Environment names are the contract with ``components/compute.py`` (see
``CLOUD_PROVIDED_ENV``). With nothing set, the embedded defaults apply: SQLite under
``.agatha/``, the in-memory rate limiter and the AWS emulator started in-process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Environments where generated/placeholder secrets and the embedded defaults are fine.
DEVELOPMENT_ENVIRONMENTS = frozenset({"local", "dev", "test"})

# What the compute component must set on the gateway task and the worker function.
# AWS_REGION is deliberately absent: Lambda reserves it and ECS sets it itself.
# DATABASE_URL, REDIS_URL, the *_API_KEY overrides and AWS_ENDPOINT_URL are local-only.
CLOUD_PROVIDED_ENV: frozenset[str] = frozenset(
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
        "LOG_LEVEL",
    }
)

DEFAULT_MODEL_CATALOGUE: dict[str, str] = {
    "gpt-4o-mini": "openai",
    "gpt-4o": "openai",
    "claude-3-5-haiku": "anthropic",
    "claude-3-5-sonnet": "anthropic",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo": "together",
    "gemini-2.0-flash": "google",
    "local-echo": "local",
}

PLACEHOLDER_VALUES = frozenset({"", "changeme", "change-me", "secret", "password", "sk-1234"})


class Settings(BaseSettings):
    """Every knob of the app; field names map 1:1 to upper-case environment variables."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    agatha_env: str = "local"
    log_level: str = "INFO"

    database_host: str | None = None
    database_port: int = 5432
    database_name: str = "agatha"
    database_secret_arn: str | None = None
    database_url: str | None = None
    # Connections per process: the gateway's concurrency (32); a Lambda worker needs one per
    # record of its batch, so the compute layer sets it to the batch size there. The
    # gateway adds DATABASE_POOL_SIZE/4 bare connections for its insert (app/db/lease.py).
    database_pool_size: int = Field(default=32, ge=1, le=500)
    database_max_overflow: int = Field(default=8, ge=0, le=500)

    redis_host: str | None = None
    redis_port: int = 6379
    redis_tls: bool = False
    redis_auth_secret_arn: str | None = None
    redis_url: str | None = None

    queue_url: str | None = None
    dlq_url: str | None = None
    archive_bucket: str | None = None
    events_topic_arn: str | None = None

    jwt_signing_secret_arn: str | None = None
    jwt_issuer: str = "agatha"
    jwt_audience: str = "agatha-api"

    openai_secret_arn: str | None = None
    anthropic_secret_arn: str | None = None
    together_secret_arn: str | None = None
    google_secret_arn: str | None = None
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    together_api_key: SecretStr | None = None
    google_api_key: SecretStr | None = None

    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None

    # Gateway-only knobs (not provided by the compute component; defaults are production-sane).
    model_catalogue: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_MODEL_CATALOGUE))
    model_allowlist: list[str] | None = None
    max_prompt_chars: int = Field(default=32_000, ge=1)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    max_output_tokens: int = Field(default=4096, ge=1)
    rate_limit_key_requests_per_minute: int = Field(default=600, ge=1)
    rate_limit_key_tokens_per_minute: int = Field(default=200_000, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    cors_methods: list[str] = Field(default_factory=lambda: ["GET", "POST", "DELETE"])
    cors_headers: list[str] = Field(
        default_factory=lambda: ["Authorization", "Content-Type", "Idempotency-Key"]
    )
    idempotency_retention_hours: int = Field(default=24, ge=1)
    result_wait_max_seconds: float = Field(default=20.0, ge=0)
    poll_retry_after_seconds: int = Field(default=2, ge=1)
    api_key_cache_seconds: float = Field(default=30.0, ge=0)
    tenant_cache_seconds: float = Field(default=30.0, ge=0)
    queue_batch_max_delay_ms: float = Field(default=2.0, ge=0)
    local_data_dir: Path = Path(".agatha")

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        if self.is_development:
            return self
        for name in ("openai_api_key", "anthropic_api_key", "together_api_key", "google_api_key"):
            value = getattr(self, name)
            if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDER_VALUES:
                raise ValueError(
                    f"{name.upper()} holds a placeholder value in AGATHA_ENV={self.agatha_env!r}; "
                    "set the real key or use the *_SECRET_ARN variable instead"
                )
        return self

    @property
    def is_development(self) -> bool:
        """True where embedded defaults and generated secrets are acceptable."""
        return self.agatha_env in DEVELOPMENT_ENVIRONMENTS

    @property
    def allowed_models(self) -> frozenset[str]:
        """Models clients may request: the allowlist if set, else the whole catalogue."""
        if self.model_allowlist is not None:
            return frozenset(self.model_allowlist)
        return frozenset(self.model_catalogue)

    @property
    def uses_embedded_aws(self) -> bool:
        """True when nothing points at AWS or an emulator: start moto in-process."""
        return self.aws_endpoint_url is None and self.queue_url is None

    @property
    def uses_redis(self) -> bool:
        """True when a Redis server is configured (else: the in-memory limiter)."""
        return self.redis_url is not None or self.redis_host is not None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
