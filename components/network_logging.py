"""Network logs: the layer's own KMS key, and VPC flow logs (ALL traffic) to CloudWatch."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.network_policies import (
    flow_logs_permissions,
    flow_logs_trust_policy,
    logs_key_policy,
)
from components.network_scope import NetworkScope


def create_logs_key(scope: NetworkScope) -> aws.kms.Key:
    """A customer key with rotation that CloudWatch Logs may use for this account's groups."""
    # The network layer owns its key rather than borrowing the data layer's: data depends
    # on network, so the flow logs would otherwise need a dependency cycle.
    context = scope.aws
    policy = pulumi.Output.all(
        context.account_id, context.region, context.partition, context.dns_suffix
    ).apply(
        lambda values: logs_key_policy(
            account_id=values[0], region=values[1], partition=values[2], dns_suffix=values[3]
        )
    )
    key = aws.kms.Key(
        scope.child("logs-key"),
        description=f"{scope.name}: encrypts VPC flow logs and Client VPN connection logs",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=policy,
        tags=scope.tags_for("logs-key"),
        opts=scope.opts(),
    )
    aws.kms.Alias(
        scope.child("logs-key-alias"),
        name=f"alias/{scope.name}-network-logs",
        target_key_id=key.key_id,
        opts=scope.opts(),
    )
    return key


def encrypted_log_group(
    scope: NetworkScope,
    suffix: str,
    *,
    log_name: str,
    key: aws.kms.Key,
    retention_days: int,
) -> aws.cloudwatch.LogGroup:
    """A log group encrypted with the network key, kept ``retention_days``."""
    return aws.cloudwatch.LogGroup(
        scope.child(suffix),
        name=log_name,
        retention_in_days=retention_days,
        kms_key_id=key.arn,
        tags=scope.tags_for(suffix),
        opts=scope.opts(),
    )


def create_flow_logs(
    scope: NetworkScope,
    *,
    vpc_id: pulumi.Input[str],
    key: aws.kms.Key,
    retention_days: int,
) -> aws.cloudwatch.LogGroup:
    """Flow log of ALL traffic of the VPC into an encrypted group; returns the group."""
    group = encrypted_log_group(
        scope,
        "flow-logs",
        log_name=f"/aws/vpc/flow-logs/{scope.name}",
        key=key,
        retention_days=retention_days,
    )
    context = scope.aws
    role = aws.iam.Role(
        scope.child("flow-logs-role"),
        description=f"{scope.name}: lets VPC Flow Logs write to its one log group",
        assume_role_policy=pulumi.Output.all(
            context.account_id, context.region, context.partition
        ).apply(
            lambda values: flow_logs_trust_policy(
                account_id=values[0], region=values[1], partition=values[2]
            )
        ),
        tags=scope.tags_for("flow-logs-role"),
        opts=scope.opts(),
    )
    aws.iam.RolePolicy(
        scope.child("flow-logs-policy"),
        role=role.id,
        policy=group.arn.apply(lambda arn: flow_logs_permissions(log_group_arn=arn)),
        opts=scope.opts(),
    )
    aws.ec2.FlowLog(
        scope.child("flow-log"),
        vpc_id=vpc_id,
        traffic_type="ALL",
        log_destination_type="cloud-watch-logs",
        log_destination=group.arn,
        iam_role_arn=role.arn,
        # One-minute aggregation: incident timelines need it; the cost is log volume only.
        max_aggregation_interval=60,
        tags=scope.tags_for("flow-log"),
        opts=scope.opts(),
    )
    return group
