"""Pure JSON policy documents of the network layer (KMS key, flow-log role, Session Manager).

No Pulumi import: the component fills in account, region and ARNs through ``apply`` and
tests check the documents directly. No statement uses a wildcard action.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

VERSION = "2012-10-17"

# Everything an administrator needs to manage the key, named one by one (no "kms:*"):
# PutKeyPolicy is among them, so the account can always widen the policy later.
KEY_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# What CloudWatch Logs needs to encrypt and read back a log group's events.
LOGS_SERVICE_KEY_ACTIONS: tuple[str, ...] = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
FLOW_LOG_ACTIONS: tuple[str, ...] = (
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
)
SESSION_CHANNEL_ACTIONS: tuple[str, ...] = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
SESSION_DOCUMENTS: tuple[str, ...] = (
    "AWS-StartPortForwardingSession",
    "AWS-StartPortForwardingSessionToRemoteHost",
)


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": VERSION, "Statement": statements}, indent=2)


def logs_key_policy(*, account_id: str, region: str, partition: str, dns_suffix: str) -> str:
    """Key policy: the account administers the key; Logs uses it for this account's groups."""
    root = f"arn:{partition}:iam::{account_id}:root"
    log_groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
    return _document(
        [
            {
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(KEY_ADMIN_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsUsesKeyForThisAccountsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.{dns_suffix}"},
                "Action": list(LOGS_SERVICE_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            },
        ]
    )


def flow_logs_trust_policy(*, account_id: str, region: str, partition: str) -> str:
    """Only the VPC Flow Logs service, acting for this account's flow logs, may assume."""
    return _document(
        [
            {
                "Sid": "VpcFlowLogsAssumesRole",
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"
                    },
                },
            }
        ]
    )


def flow_logs_permissions(*, log_group_arn: str) -> str:
    """Write flow-log streams into exactly one log group."""
    group = log_group_arn.removesuffix(":*")
    account_groups = group.split(":log-group:", 1)[0] + ":log-group:*"
    return _document(
        [
            {
                "Sid": "WriteFlowLogStreams",
                "Effect": "Allow",
                "Action": list(FLOW_LOG_ACTIONS),
                "Resource": [group, f"{group}:log-stream:*"],
            },
            {
                # The service checks that the group exists before delivering; read-only.
                "Sid": "FindFlowLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": account_groups,
            },
        ]
    )


def session_manager_policy(
    *, account_id: str, region: str, partition: str, target_tags: Mapping[str, str]
) -> str:
    """Operator access without bastions: sessions only on targets carrying ``target_tags``."""
    if not target_tags:
        raise ValueError(
            "Session Manager access needs target tags to scope it; pass the stack's tags "
            "(service and environment) to the network component"
        )
    arn = f"arn:{partition}"
    ssm_tags = {f"ssm:resourceTag/{key}": value for key, value in sorted(target_tags.items())}
    ecs_tags = {f"aws:ResourceTag/{key}": value for key, value in sorted(target_tags.items())}
    return _document(
        [
            *_start_session_statements(arn, region=region, account_id=account_id, tags=ssm_tags),
            {
                "Sid": "EcsExecOnTaggedTasks",
                "Effect": "Allow",
                "Action": "ecs:ExecuteCommand",
                "Resource": [
                    f"{arn}:ecs:{region}:{account_id}:cluster/*",
                    f"{arn}:ecs:{region}:{account_id}:task/*",
                ],
                "Condition": {"StringEquals": ecs_tags},
            },
            {
                # These channel actions have no resource type: "*" is the only valid
                # resource; the actions themselves are named one by one.
                "Sid": "SessionChannels",
                "Effect": "Allow",
                "Action": list(SESSION_CHANNEL_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "DescribeSessionTargets",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeInstances",
                    "ssm:DescribeInstanceProperties",
                    "ssm:DescribeSessions",
                    "ssm:GetConnectionStatus",
                ],
                "Resource": "*",
            },
        ]
    )


def _start_session_statements(
    arn: str, *, region: str, account_id: str, tags: Mapping[str, str]
) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "StartSessionOnTaggedInstances",
            "Effect": "Allow",
            "Action": "ssm:StartSession",
            "Resource": f"{arn}:ec2:{region}:{account_id}:instance/*",
            "Condition": {"StringEquals": dict(tags)},
        },
        {
            "Sid": "StartSessionWithSessionDocuments",
            "Effect": "Allow",
            "Action": "ssm:StartSession",
            "Resource": [
                f"{arn}:ssm:{region}:{account_id}:document/SSM-SessionManagerRunShell",
                *(f"{arn}:ssm:{region}::document/{doc}" for doc in SESSION_DOCUMENTS),
            ],
        },
        {
            "Sid": "ManageOwnSessions",
            "Effect": "Allow",
            "Action": ["ssm:ResumeSession", "ssm:TerminateSession"],
            "Resource": f"{arn}:ssm:{region}:{account_id}:session/${{aws:userid}}-*",
        },
    ]
