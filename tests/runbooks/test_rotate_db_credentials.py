from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from runbooks.aws import AwsSession
from runbooks.errors import StepFailed, VerificationFailed
from runbooks.rotate_db_credentials import do_rotate_db_credentials
from tests.runbooks.opskit import REGION, Platform, make_ctx, secret_value, stages

OLD_ID = "00000000-0000-4000-8000-000000000001"
NEW_ID = "00000000-0000-4000-8000-000000000002"


def test_client_rotation_promotes_only_after_new_password_is_tested(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["db-master-secret-arn"]
    seen: list[tuple[str, str]] = []

    def tester(credentials: dict[str, Any]) -> None:
        # At test time the old value must still be AWSCURRENT.
        seen.append((credentials["password"], json.loads(secret_value(secret))["password"]))

    report = do_rotate_db_credentials(make_ctx(aws, tmp_path), tester=tester)

    assert len(seen) == 1
    new_password, current_while_testing = seen[0]
    assert current_while_testing == "old-password"
    current = json.loads(secret_value(secret))
    assert current == {"username": "agatha", "password": new_password}
    assert json.loads(secret_value(secret, "AWSPREVIOUS"))["password"] == "old-password"
    assert not any("AWSPENDING" in s for s in stages(secret).values())
    assert report["method"] == "client"
    assert [s["state"] for s in report["steps"]] == ["done", "done", "done", "done"]


def test_failing_test_step_keeps_old_value_current_and_drops_pending(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["db-master-secret-arn"]

    def tester(credentials: dict[str, Any]) -> None:
        raise VerificationFailed("login refused")

    with pytest.raises(StepFailed) as raised:
        do_rotate_db_credentials(make_ctx(aws, tmp_path), tester=tester)

    message = raised.value.format_message()
    assert "step test failed: login refused" in message
    assert "Rolled back: set, create" in message
    assert json.loads(secret_value(secret))["password"] == "old-password"
    assert not any("AWSPENDING" in s for s in stages(secret).values())


def test_rerun_resumes_from_existing_pending_version(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    secret = platform["db-master-secret-arn"]
    pending = {"username": "agatha", "password": "left-by-an-interrupted-run"}
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=secret, SecretString=json.dumps(pending), VersionStages=["AWSPENDING"]
    )
    tested: list[str] = []

    report = do_rotate_db_credentials(
        make_ctx(aws, tmp_path), tester=lambda c: tested.append(c["password"])
    )

    assert report["steps"][0] == {"step": "create", "state": "already-done"}
    assert tested == ["left-by-an-interrupted-run"]
    assert json.loads(secret_value(secret))["password"] == "left-by-an-interrupted-run"


def test_dry_run_changes_nothing(aws: AwsSession, platform: Platform, tmp_path: Path) -> None:
    secret = platform["db-master-secret-arn"]
    before = stages(secret)
    report = do_rotate_db_credentials(make_ctx(aws, tmp_path, dry_run=True), tester=lambda c: None)
    assert stages(secret) == before
    assert [s["state"] for s in report["steps"]] == ["would-run"] * 4


def test_managed_secret_is_rotated_by_secrets_manager(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    """moto cannot model RDS-managed rotation: the exact Secrets Manager calls are stubbed."""
    secret = platform["db-master-secret-arn"]
    stubbed = boto3.client("secretsmanager", region_name=REGION)
    stub = Stubber(stubbed)
    old = {OLD_ID: ["AWSCURRENT"]}
    new = {OLD_ID: ["AWSPREVIOUS"], NEW_ID: ["AWSCURRENT"]}
    by_id = {"SecretId": secret}
    managed = {"ARN": secret, "OwningService": "rds", "RotationEnabled": True}
    stub.add_response("describe_secret", {**managed, "VersionIdsToStages": old}, by_id)
    stub.add_response("describe_secret", {**managed, "VersionIdsToStages": old}, by_id)
    stub.add_response("describe_secret", {**managed, "VersionIdsToStages": old}, by_id)
    stub.add_response("rotate_secret", {"ARN": secret, "VersionId": NEW_ID}, by_id)
    pending = {OLD_ID: ["AWSCURRENT"], NEW_ID: ["AWSPENDING"]}
    stub.add_response("describe_secret", {**managed, "VersionIdsToStages": pending}, by_id)
    stub.add_response("describe_secret", {**managed, "VersionIdsToStages": new}, by_id)
    value = json.dumps({"username": "agatha", "password": "rotated-by-rds"})
    stub.add_response(
        "get_secret_value",
        {"ARN": secret, "SecretString": value},
        {"SecretId": secret, "VersionStage": "AWSCURRENT"},
    )
    stub.add_response("describe_secret", {**managed, "VersionIdsToStages": new}, by_id)
    session = AwsSession(region=REGION, clients={"secretsmanager": stubbed})
    tested: list[str] = []

    with stub:
        report = do_rotate_db_credentials(
            make_ctx(session, tmp_path), tester=lambda c: tested.append(c["password"])
        )
        stub.assert_no_pending_responses()

    assert report["method"] == "managed"
    assert tested == ["rotated-by-rds"]
    assert report["current_version"] == NEW_ID
