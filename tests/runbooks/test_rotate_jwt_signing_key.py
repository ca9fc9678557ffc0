from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from runbooks.aws import AwsSession
from runbooks.errors import PreconditionFailed
from runbooks.rotate_jwt_signing_key import do_rotate_jwt_signing_key
from tests.runbooks.opskit import START, Platform, make_ctx, secret_value


def _keys(secret: str) -> list[dict[str, str]]:
    return list(json.loads(secret_value(secret))["keys"])


def test_rotation_adds_current_key_and_keeps_old_one_as_previous(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["jwt-signing-secret-arn"]
    do_rotate_jwt_signing_key(make_ctx(aws, tmp_path))
    keys = _keys(secret)
    assert [k["status"] for k in keys] == ["current", "previous"]
    assert keys[1]["kid"] == "k1" and keys[1]["secret"] == "s1"
    assert keys[0]["kid"] != "k1" and len(keys[0]["secret"]) >= 64
    assert keys[0]["created_at"] == START.isoformat()


def test_second_rotation_within_grace_is_refused(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["jwt-signing-secret-arn"]
    do_rotate_jwt_signing_key(make_ctx(aws, tmp_path))
    before = _keys(secret)
    later = START + timedelta(hours=1)
    with pytest.raises(PreconditionFailed, match="grace period"):
        do_rotate_jwt_signing_key(make_ctx(aws, tmp_path, now=later))
    assert _keys(secret) == before


def test_retire_removes_previous_only_after_grace(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["jwt-signing-secret-arn"]
    do_rotate_jwt_signing_key(make_ctx(aws, tmp_path))
    with pytest.raises(PreconditionFailed, match="grace period runs until"):
        do_rotate_jwt_signing_key(
            make_ctx(aws, tmp_path, now=START + timedelta(hours=23)), retire=True
        )
    assert len(_keys(secret)) == 2
    do_rotate_jwt_signing_key(make_ctx(aws, tmp_path, now=START + timedelta(hours=25)), retire=True)
    assert [k["status"] for k in _keys(secret)] == ["current"]
