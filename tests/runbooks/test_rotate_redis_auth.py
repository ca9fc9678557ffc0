from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from runbooks.aws import AwsSession
from runbooks.errors import StepFailed
from runbooks.rotate_redis_auth import do_rotate_redis_auth, parse_auth_secret
from tests.runbooks.opskit import REGION, FakeClock, Platform, make_ctx, secret_value, stages

GROUP = "agatha-dev-cache"


def _available() -> dict[str, Any]:
    return {"ReplicationGroups": [{"ReplicationGroupId": GROUP, "Status": "available"}]}


def _expect_modify(stub: Stubber, strategy: str) -> None:
    stub.add_response(
        "modify_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "modifying"}},
        {
            "ReplicationGroupId": GROUP,
            "AuthToken": ANY,
            "AuthTokenUpdateStrategy": strategy,
            "ApplyImmediately": True,
        },
    )
    stub.add_response("describe_replication_groups", _available(), {"ReplicationGroupId": GROUP})


def test_rotate_then_set_with_both_tokens_in_secret_during_window(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    """moto accepts auth-token rotation without effect: the ElastiCache calls are stubbed."""
    secret = platform["cache-auth-secret-arn"]
    elasticache = boto3.client("elasticache", region_name=REGION)
    stub = Stubber(elasticache)
    _expect_modify(stub, "ROTATE")
    _expect_modify(stub, "SET")
    session = AwsSession(region=REGION, clients={"elasticache": elasticache})
    clock = FakeClock()
    during_window: list[dict[str, str]] = []
    real_sleep = clock.sleep

    def sleep(seconds: float) -> None:
        during_window.append(parse_auth_secret(secret_value(secret)))
        real_sleep(seconds)

    clock.sleep = sleep  # type: ignore[method-assign]
    with stub:
        do_rotate_redis_auth(make_ctx(session, tmp_path, clock=clock), window_seconds=30)
        stub.assert_no_pending_responses()

    final = json.loads(secret_value(secret))
    assert set(final) == {"auth_token"} and final["auth_token"] != "old-token-0123456789"
    assert during_window, "the window must wait"
    assert during_window[0] == {
        "auth_token": final["auth_token"],
        "previous_auth_token": "old-token-0123456789",
    }


def test_failed_rotate_call_keeps_old_token_current(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    """The stubbed ROTATE call fails; the staged secret version is dropped."""
    secret = platform["cache-auth-secret-arn"]
    elasticache = boto3.client("elasticache", region_name=REGION)
    stub = Stubber(elasticache)
    stub.add_client_error("modify_replication_group", "InvalidReplicationGroupState", "busy")
    session = AwsSession(region=REGION, clients={"elasticache": elasticache})

    with stub, pytest.raises(StepFailed) as raised:
        do_rotate_redis_auth(make_ctx(session, tmp_path), window_seconds=0)

    assert "wait until it is available" in raised.value.format_message()
    assert json.loads(secret_value(secret)) == {"auth_token": "old-token-0123456789"}
    assert not any("AWSPENDING" in s for s in stages(secret).values())


def test_plain_string_secret_is_read_as_current_token() -> None:
    assert parse_auth_secret("abc") == {"auth_token": "abc"}
