from __future__ import annotations

from pathlib import Path

from runbooks.aws import AwsSession
from runbooks.status import do_status
from tests.runbooks.opskit import Platform, client, make_ctx


def test_status_reports_every_component_and_flags_dlq_messages(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    client("sqs").send_message(QueueUrl=platform["dlq-url"], MessageBody="{}")
    report = do_status(make_ctx(aws, tmp_path))
    by_check = {(r["component"], r["check"]): r for r in report["checks"]}
    assert by_check[("database", "writer")]["value"] == "agatha-dev-db-0"
    assert by_check[("database", "replicas available")]["value"] == "2/2"
    assert by_check[("cache", "status")]["state"] == "ok"
    assert by_check[("dlq", "depth (visible/in flight)")] | {} == {
        "component": "dlq",
        "check": "depth (visible/in flight)",
        "value": "1/0",
        "state": "warn",
    }
    assert by_check[("gateway", "tasks running/desired")]["state"] == "fail"  # moto runs none
    assert by_check[("alarms", "in ALARM")]["value"] == "none"
    assert ("secrets", "secret-arn-openai age (days)") in by_check
    assert report["overall"] == "fail"


def test_missing_stack_shows_error_rows_instead_of_crashing(
    aws: AwsSession, tmp_path: Path
) -> None:
    report = do_status(make_ctx(aws, tmp_path))
    states = {r["component"]: r["state"] for r in report["checks"]}
    assert states.pop("alarms") == "ok"  # alarms are found by name prefix, not SSM
    assert set(states.values()) == {"error"}
    assert "pulumi up -s dev" in report["checks"][0]["value"]
