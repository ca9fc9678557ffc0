"""Compute IAM documents: exact ARNs, no wildcard actions, scoped trust (no Pulumi)."""

from __future__ import annotations

import json

from components import compute_iam as iam

QUEUE = "arn:aws:sqs:us-east-1:123456789012:agatha-dev-jobs"
TOPIC = "arn:aws:sns:us-east-1:123456789012:agatha-dev-events"
KEY = "arn:aws:kms:us-east-1:123456789012:key/platform"
BUCKET = "arn:aws:s3:::agatha-dev-archive"
LOGS = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/agatha-dev-worker"
REPO = "arn:aws:ecr:us-east-1:123456789012:repository/agatha-dev-gateway"
SECRETS = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"]


def _statements(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Statement"]}


def _all_documents() -> list[dict]:
    return [
        iam.ecs_tasks_trust_policy(account_id="123456789012"),
        iam.lambda_trust_policy(),
        iam.execution_role_policy(
            repository_arn=REPO, log_group_arn=LOGS, kms_key_arn=KEY, secret_arns=SECRETS
        ),
        iam.gateway_task_policy(
            queue_arn=QUEUE,
            topic_arn=TOPIC,
            kms_key_arn=KEY,
            secret_arns=SECRETS,
            aps_workspace_arn="arn:aws:aps:us-east-1:123456789012:workspace/ws-1",
        ),
        iam.worker_policy(
            queue_arn=QUEUE,
            topic_arn=TOPIC,
            kms_key_arn=KEY,
            archive_bucket_arn=BUCKET,
            log_group_arn=LOGS,
            secret_arns=SECRETS,
        ),
    ]


def test_every_document_is_valid_json_without_wildcard_problems() -> None:
    for policy in _all_documents():
        assert json.loads(iam.to_json(policy))["Version"] == "2012-10-17"
        assert iam.wildcard_problems(policy) == []


def test_wildcard_problems_flags_star_actions_and_star_resources_on_writes() -> None:
    bad = iam.document(
        [
            iam.statement("All", ["s3:*"], [BUCKET]),
            iam.statement("Write", ["sqs:SendMessage"], ["*"]),
            iam.statement("Telemetry", ["xray:PutTraceSegments"], ["*"]),
        ]
    )
    problems = iam.wildcard_problems(bad)
    assert problems == [
        "statement 0: wildcard action 's3:*'",
        "statement 1: sqs:SendMessage on Resource '*'",
    ]


def test_ecs_trust_is_limited_to_ecs_tasks_of_this_account() -> None:
    (trust,) = iam.ecs_tasks_trust_policy(account_id="123456789012")["Statement"]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_lambda_trust_names_only_the_lambda_service() -> None:
    (trust,) = iam.lambda_trust_policy()["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"


def test_gateway_task_policy_grants_send_only_on_the_queue() -> None:
    policy = _statements(
        iam.gateway_task_policy(
            queue_arn=QUEUE, topic_arn=TOPIC, kms_key_arn=KEY, secret_arns=SECRETS
        )
    )
    assert policy["EnqueueJobs"]["Action"] == ["sqs:SendMessage"]
    assert policy["EnqueueJobs"]["Resource"] == [QUEUE]
    assert policy["ReadSecrets"]["Resource"] == SECRETS
    assert policy["PublishEvents"]["Resource"] == [TOPIC]
    assert sorted(policy["EcsExecSessions"]["Action"]) == sorted(iam.ECS_EXEC_ACTIONS)
    assert "RemoteWriteMetrics" not in policy


def test_gateway_task_policy_adds_remote_write_on_the_workspace_only_when_given() -> None:
    workspace = "arn:aws:aps:us-east-1:123456789012:workspace/ws-1"
    policy = _statements(
        iam.gateway_task_policy(
            queue_arn=QUEUE,
            topic_arn=TOPIC,
            kms_key_arn=KEY,
            secret_arns=SECRETS,
            aps_workspace_arn=workspace,
        )
    )
    assert policy["RemoteWriteMetrics"] == iam.statement(
        "RemoteWriteMetrics", ["aps:RemoteWrite"], [workspace]
    )


def test_worker_policy_consumes_the_queue_and_writes_only_under_the_bucket() -> None:
    policy = _statements(
        iam.worker_policy(
            queue_arn=QUEUE,
            topic_arn=TOPIC,
            kms_key_arn=KEY,
            archive_bucket_arn=BUCKET,
            log_group_arn=LOGS,
            secret_arns=SECRETS,
        )
    )
    assert policy["ConsumeJobs"]["Action"] == [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]
    assert policy["ArchiveResults"] == iam.statement(
        "ArchiveResults", ["s3:PutObject"], [f"{BUCKET}/*"]
    )
    assert policy["WriteLogs"]["Resource"] == [f"{LOGS}:*"]
    assert policy["Tracing"]["Resource"] == ["*"]


def test_execution_role_reads_container_secrets_only_when_there_are_some() -> None:
    without = _statements(
        iam.execution_role_policy(repository_arn=REPO, log_group_arn=LOGS, kms_key_arn=KEY)
    )
    assert "ContainerSecrets" not in without
    assert without["EcrPull"]["Resource"] == [REPO]
    with_secret = _statements(
        iam.execution_role_policy(
            repository_arn=REPO, log_group_arn=LOGS, kms_key_arn=KEY, secret_arns=SECRETS
        )
    )
    assert with_secret["ContainerSecrets"]["Resource"] == SECRETS


def test_log_stream_arn_does_not_double_the_suffix() -> None:
    assert iam.log_stream_arn(f"{LOGS}:*") == f"{LOGS}:*"
