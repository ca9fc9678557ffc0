from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from runbooks.aws import AwsSession
from runbooks.deploy_restart_gateway import do_restart_gateway
from runbooks.errors import StepFailed
from tests.runbooks.opskit import REGION, FakeClock, Platform, make_ctx


def test_forces_new_deployment_and_times_out_when_tasks_never_start(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    """moto runs no tasks, so the rollout never completes: the timeout path is real."""
    clock = FakeClock()
    with pytest.raises(StepFailed) as raised:
        do_restart_gateway(make_ctx(aws, tmp_path, clock=clock), timeout=60)
    message = raised.value.format_message()
    assert "timed out after" in message and "0/2 running" in message
    assert "completed: force-new-deployment" in message
    assert clock.now >= 60 and len(clock.sleeps) < 20


def _service(deployments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "services": [
            {
                "serviceName": "agatha-dev-gateway",
                "runningCount": 2,
                "desiredCount": 2,
                "deployments": deployments,
                "events": [],
            }
        ]
    }


def test_waits_until_one_completed_deployment_remains(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    """The settle sequence ECS reports in the cloud is stubbed (moto never settles)."""
    client = boto3.client("ecs", region_name=REGION)
    stub = Stubber(client)
    new = {
        "id": "ecs-svc/2",
        "status": "PRIMARY",
        "desiredCount": 2,
        "runningCount": 2,
        "rolloutState": "COMPLETED",
    }
    old = {"id": "ecs-svc/1", "status": "ACTIVE", "desiredCount": 0, "runningCount": 2}
    stub.add_response(
        "update_service",
        {"service": {"deployments": [{**new, "rolloutState": "IN_PROGRESS"}, old]}},
        {"cluster": "agatha-dev", "service": "agatha-dev-gateway", "forceNewDeployment": True},
    )
    by_name = {"cluster": "agatha-dev", "services": ["agatha-dev-gateway"]}
    stub.add_response("describe_services", _service([new, old]), by_name)
    stub.add_response("describe_services", _service([new]), by_name)
    stub.add_response("describe_services", _service([new]), by_name)
    session = AwsSession(region=REGION, clients={"ecs": client})
    with stub:
        report = do_restart_gateway(make_ctx(session, tmp_path))
        stub.assert_no_pending_responses()
    assert report["deployment_id"] == "ecs-svc/2"
    assert report["running"] == 2
