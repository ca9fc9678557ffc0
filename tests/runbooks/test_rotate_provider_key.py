from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from runbooks.aws import AwsSession
from runbooks.errors import StepFailed
from runbooks.provider_verify import build_request
from runbooks.rotate_provider_key import do_rotate_provider_key
from tests.runbooks.opskit import Platform, make_ctx, secret_value, stages


def _client(status: int, seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={"data": []})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_verified_key_is_promoted_and_old_one_recoverable(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["secret-arn-openai"]
    seen: list[httpx.Request] = []
    report = do_rotate_provider_key(
        make_ctx(aws, tmp_path),
        provider="openai",
        value="sk-new",
        verify=True,
        base_url="http://127.0.0.1:9/openai",
        http=_client(200, seen),
    )
    assert str(seen[0].url) == "http://127.0.0.1:9/openai/v1/models"
    assert seen[0].headers["Authorization"] == "Bearer sk-new"
    assert secret_value(secret) == "sk-new"
    assert secret_value(secret, "AWSPREVIOUS") == "old-openai-key"
    assert report["previous_version"] is not None


def test_rejected_key_leaves_old_value_current(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["secret-arn-anthropic"]
    seen: list[httpx.Request] = []
    with pytest.raises(StepFailed, match="rejected the new key"):
        do_rotate_provider_key(
            make_ctx(aws, tmp_path),
            provider="anthropic",
            value="bad",
            verify=True,
            http=_client(401, seen),
        )
    assert seen[0].headers["x-api-key"] == "bad"
    assert secret_value(secret) == "old-anthropic-key"
    assert not any("AWSPENDING" in s for s in stages(secret).values())


def test_rerun_with_same_value_after_promotion_changes_nothing(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["secret-arn-stripe"]
    do_rotate_provider_key(make_ctx(aws, tmp_path), provider="stripe", value="rk_new")
    versions = stages(secret)
    report = do_rotate_provider_key(make_ctx(aws, tmp_path), provider="stripe", value="rk_new")
    assert stages(secret) == versions
    assert {s["state"] for s in report["steps"]} == {"already-done"}


def test_twilio_check_uses_basic_auth_with_account_sid() -> None:
    request = build_request(
        "twilio", '{"account_sid": "AC1", "auth_token": "t"}', base_url="http://127.0.0.1:9"
    )
    assert str(request.url) == "http://127.0.0.1:9/2010-04-01/Accounts/AC1.json"
    assert request.headers["Authorization"].startswith("Basic ")
