"""``agatha local up``'s AWS side: the app's resource creation plus local key handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from agatha.local.emulator import local_aws
from agatha.local.layout import load_layout
from app.aws import boto3_client, read_secret_json
from app.settings import Settings


@pytest.fixture
def no_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "QUEUE_URL", "DLQ_URL", "JWT_SIGNING_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_aws_env")
def test_local_aws_creates_the_layout_in_moto_and_moves_provider_keys_to_secrets(
    repo_root: Path, tmp_path: Path
) -> None:
    layout = load_layout(repo_root)
    key_file = tmp_path / "jwt-keys.json"
    base = Settings(openai_api_key=SecretStr("sk-local"), log_level="ERROR")
    with local_aws(base, layout, jwt_key_file=key_file) as settings:
        assert settings.aws_endpoint_url is not None
        assert settings.aws_endpoint_url.startswith("http://127.0.0.1:")
        assert settings.queue_url is not None and settings.queue_url.endswith(layout.queue_name)
        sqs = boto3_client(settings, "sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=settings.queue_url, AttributeNames=["All"])
        redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
        assert redrive["maxReceiveCount"] == layout.max_receive_count
        assert attributes["Attributes"]["VisibilityTimeout"] == str(
            layout.visibility_timeout_seconds
        )
        assert settings.jwt_signing_secret_arn is not None
        assert read_secret_json(settings, settings.jwt_signing_secret_arn) == json.loads(
            key_file.read_text(encoding="utf-8")
        )
        assert settings.openai_api_key is None
        assert settings.openai_secret_arn is not None
        assert layout.provider_secret_names["openai"] in settings.openai_secret_arn
        assert read_secret_json(settings, settings.openai_secret_arn) == {"api_key": "sk-local"}


@pytest.mark.usefixtures("no_aws_env")
def test_local_aws_leaves_settings_alone_when_the_queue_is_given(
    repo_root: Path, tmp_path: Path
) -> None:
    given = Settings(queue_url="https://sqs.example/q", log_level="ERROR")
    with local_aws(given, load_layout(repo_root), jwt_key_file=tmp_path / "k") as settings:
        assert settings == given
    assert not (tmp_path / "k").exists()
