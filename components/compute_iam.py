"""IAM policy documents of the compute layer, as pure functions over resolved ARNs.

Every statement names the exact ARNs it needs. ``Resource: "*"`` appears only for the
actions in ``WILDCARD_RESOURCE_ACTIONS``: AWS does not support resource-level permissions
for them, so no narrower resource exists (see the reason next to each).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

VERSION = "2012-10-17"

# action -> why it must use Resource "*" (AWS service authorization reference).
WILDCARD_RESOURCE_ACTIONS: dict[str, str] = {
    "ecr:GetAuthorizationToken": "registry-wide login token; no resource type exists",
    "xray:PutTraceSegments": "X-Ray telemetry has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray telemetry has no resource-level permissions",
    "ssmmessages:CreateControlChannel": "ECS Exec session channel; no resource type exists",
    "ssmmessages:CreateDataChannel": "ECS Exec session channel; no resource type exists",
    "ssmmessages:OpenControlChannel": "ECS Exec session channel; no resource type exists",
    "ssmmessages:OpenDataChannel": "ECS Exec session channel; no resource type exists",
}

ECS_EXEC_ACTIONS: tuple[str, ...] = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)

# ENI management for a VPC-attached function: AWS-managed, scoped to what Lambda needs.
LAMBDA_VPC_ACCESS_POLICY_ARN = (
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
)


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Allow statement."""
    result: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(resources),
    }
    if condition:
        result["Condition"] = condition
    return result


def document(statements: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A policy document from statements."""
    return {"Version": VERSION, "Statement": list(statements)}


def ecs_tasks_trust_policy(*, account_id: str) -> dict[str, Any]:
    """Who may assume a task or execution role: ECS tasks of this account only."""
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                # Confused-deputy guard: ECS acting for another account cannot assume it.
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ]
    )


def lambda_trust_policy() -> dict[str, Any]:
    """Who may assume the worker role: the Lambda service."""
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def log_stream_arn(log_group_arn: str) -> str:
    """The streams of one log group (the provider's group ARN has no ``:*`` suffix)."""
    return f"{log_group_arn.removesuffix(':*')}:*"


def execution_role_policy(
    *,
    repository_arn: str,
    log_group_arn: str,
    kms_key_arn: str,
    secret_arns: Sequence[str] = (),
) -> dict[str, Any]:
    """What ECS needs to start the task: pull our image, write logs, resolve `secrets`."""
    statements = [
        statement("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
        statement(
            "EcrPull",
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [repository_arn],
        ),
        statement(
            "WriteLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [log_stream_arn(log_group_arn)],
        ),
    ]
    if secret_arns:
        statements += [
            statement("ContainerSecrets", ["secretsmanager:GetSecretValue"], list(secret_arns)),
            statement("DecryptContainerSecrets", ["kms:Decrypt"], [kms_key_arn]),
        ]
    return document(statements)


def gateway_task_policy(
    *,
    queue_arn: str,
    topic_arn: str,
    kms_key_arn: str,
    secret_arns: Sequence[str],
    aps_workspace_arn: str | None = None,
) -> dict[str, Any]:
    """What the gateway's code may do: enqueue jobs, read its secrets, publish events."""
    statements = [
        statement("EnqueueJobs", ["sqs:SendMessage"], [queue_arn]),
        statement("ReadSecrets", ["secretsmanager:GetSecretValue"], list(secret_arns)),
        # SQS, SNS and Secrets Manager are encrypted with the platform key.
        statement("UsePlatformKey", ["kms:Decrypt", "kms:GenerateDataKey"], [kms_key_arn]),
        statement("PublishEvents", ["sns:Publish"], [topic_arn]),
        statement("EcsExecSessions", list(ECS_EXEC_ACTIONS), ["*"]),
    ]
    if aps_workspace_arn:
        statements.append(statement("RemoteWriteMetrics", ["aps:RemoteWrite"], [aps_workspace_arn]))
        # The collector sidecar also exports the gateway's traces to X-Ray.
        statements.append(
            statement("Tracing", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"])
        )
    return document(statements)


def worker_policy(
    *,
    queue_arn: str,
    topic_arn: str,
    kms_key_arn: str,
    archive_bucket_arn: str,
    log_group_arn: str,
    secret_arns: Sequence[str],
) -> dict[str, Any]:
    """What the worker may do: consume jobs, read secrets, archive, publish, trace, log."""
    return document(
        [
            statement(
                "ConsumeJobs",
                [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                ],
                [queue_arn],
            ),
            # The maintenance pass re-sends the message of a pending row whose message was lost.
            statement("RequeueLostJobs", ["sqs:SendMessage"], [queue_arn]),
            statement("ReadSecrets", ["secretsmanager:GetSecretValue"], list(secret_arns)),
            statement("UsePlatformKey", ["kms:Decrypt", "kms:GenerateDataKey"], [kms_key_arn]),
            statement("ArchiveResults", ["s3:PutObject"], [f"{archive_bucket_arn}/*"]),
            statement("PublishEvents", ["sns:Publish"], [topic_arn]),
            statement(
                "WriteLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [log_stream_arn(log_group_arn)],
            ),
            statement("Tracing", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]),
        ]
    )


def to_json(policy: dict[str, Any]) -> str:
    """The document as IAM expects it (stable key order, so diffs stay quiet)."""
    return json.dumps(policy, sort_keys=True)


def wildcard_problems(policy: dict[str, Any]) -> list[str]:
    """Why ``policy`` breaks GOV-01 (``*`` actions, ``*`` resources on other actions)."""
    problems: list[str] = []
    for index, stmt in enumerate(policy.get("Statement", [])):
        actions = _as_list(stmt.get("Action"))
        resources = _as_list(stmt.get("Resource"))
        problems += [f"statement {index}: wildcard action {a!r}" for a in actions if "*" in a]
        if "*" in resources:
            problems += [
                f"statement {index}: {a} on Resource '*'"
                for a in actions
                if a not in WILDCARD_RESOURCE_ACTIONS
            ]
    return problems


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
