"""Settings: env names, embedded defaults, placeholder refusal, the cloud contract set."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import CLOUD_PROVIDED_ENV, Settings


def test_every_cloud_provided_name_is_a_settings_field() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    assert fields >= CLOUD_PROVIDED_ENV
    assert not CLOUD_PROVIDED_ENV & {"DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL"}


def test_environment_names_are_read_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUEUE_URL", "https://sqs/q")
    monkeypatch.setenv("REDIS_TLS", "true")
    monkeypatch.setenv("MODEL_CATALOGUE", '{"m1": "openai"}')
    settings = Settings()
    assert settings.queue_url == "https://sqs/q" and settings.redis_tls is True
    assert settings.model_catalogue == {"m1": "openai"}
    assert settings.allowed_models == frozenset({"m1"})


def test_nothing_set_means_embedded_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.uses_embedded_aws and not settings.uses_redis and settings.is_development
    assert settings.model_catalogue["local-echo"] == "local"


def test_placeholder_provider_key_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="OPENAI_API_KEY holds a placeholder"):
        Settings(agatha_env="prod", openai_api_key="sk-1234")
    assert Settings(agatha_env="dev", openai_api_key="sk-1234").openai_api_key is not None


def test_database_pool_is_sized_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "10")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "0")
    settings = Settings()
    assert (settings.database_pool_size, settings.database_max_overflow) == (10, 0)
    assert Settings.model_fields["database_pool_size"].default == 32
