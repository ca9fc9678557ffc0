"""The network layer's policy documents, checked as plain JSON (no Pulumi)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.network_policies import (
    flow_logs_permissions,
    flow_logs_trust_policy,
    logs_key_policy,
    session_manager_policy,
)

ACCOUNT = "123456789012"
GROUP_ARN = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/vpc/flow-logs/t"


def statements(document: str) -> dict[str, dict[str, Any]]:
    parsed = json.loads(document)
    assert parsed["Version"] == "2012-10-17"
    return {s["Sid"]: s for s in parsed["Statement"]}


def actions_of(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_logs_key_is_administered_by_the_account_and_used_by_regional_logs() -> None:
    policy = statements(
        logs_key_policy(
            account_id=ACCOUNT, region="eu-west-1", partition="aws", dns_suffix="amazonaws.com"
        )
    )
    admin = policy["AccountAdministersKey"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert "kms:PutKeyPolicy" in admin["Action"]
    logs = policy["CloudWatchLogsUsesKeyForThisAccountsLogGroups"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"
        }
    }
    for statement in policy.values():
        assert not [a for a in actions_of(statement) if "*" in a]


def test_flow_logs_role_trusts_only_this_accounts_flow_logs() -> None:
    trust = statements(
        flow_logs_trust_policy(account_id=ACCOUNT, region="eu-west-1", partition="aws")
    )
    statement = trust["VpcFlowLogsAssumesRole"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"].endswith(f"{ACCOUNT}:vpc-flow-log/*")


@pytest.mark.parametrize("arn", [GROUP_ARN, f"{GROUP_ARN}:*"])
def test_flow_logs_write_only_into_their_group(arn: str) -> None:
    policy = statements(flow_logs_permissions(log_group_arn=arn))
    writes = policy["WriteFlowLogStreams"]
    assert writes["Resource"] == [GROUP_ARN, f"{GROUP_ARN}:log-stream:*"]
    assert set(writes["Action"]) == {
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    }
    assert policy["FindFlowLogGroup"]["Action"] == "logs:DescribeLogGroups"
    assert policy["FindFlowLogGroup"]["Resource"] == f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"


def test_session_manager_scopes_sessions_to_tagged_targets() -> None:
    policy = statements(
        session_manager_policy(
            account_id=ACCOUNT,
            region="eu-west-1",
            partition="aws",
            target_tags={"service": "agatha", "environment": "prod"},
        )
    )
    instances = policy["StartSessionOnTaggedInstances"]
    assert instances["Resource"] == f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/*"
    assert instances["Condition"]["StringEquals"] == {
        "ssm:resourceTag/environment": "prod",
        "ssm:resourceTag/service": "agatha",
    }
    assert policy["EcsExecOnTaggedTasks"]["Condition"]["StringEquals"] == {
        "aws:ResourceTag/environment": "prod",
        "aws:ResourceTag/service": "agatha",
    }
    assert policy["ManageOwnSessions"]["Resource"].endswith("session/${aws:userid}-*")
    # "*" resources only where AWS offers no resource type, and never with a "*" action.
    assert {sid for sid, s in policy.items() if s["Resource"] == "*"} == {
        "SessionChannels",
        "DescribeSessionTargets",
    }
    assert actions_of(policy["SessionChannels"]) == [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    for statement in policy.values():
        assert not [a for a in actions_of(statement) if "*" in a]


def test_session_manager_refuses_to_grant_without_target_tags() -> None:
    with pytest.raises(ValueError, match="needs target tags"):
        session_manager_policy(
            account_id=ACCOUNT, region="eu-west-1", partition="aws", target_tags={}
        )
