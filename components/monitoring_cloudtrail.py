"""CloudTrail: a multi-region, validated, KMS-encrypted trail to S3 and CloudWatch Logs.

The trail gets its own key: the data layer's platform key does not admit
cloudtrail.amazonaws.com, and an audit key should not share a blast radius anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import monitoring_cloudtrail_rules as rules
from components.data_keys import AwsContext
from components.monitoring_trail_buckets import BucketInputs, create_trail_buckets

KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class TrailInputs:
    """What the trail needs from the stack."""

    name: str
    context: AwsContext
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    expiration_days: int
    protect: bool
    tags: dict[str, str]


@dataclass(frozen=True)
class TrailResources:
    """The trail and where it delivers."""

    trail: aws.cloudtrail.Trail
    bucket: aws.s3.Bucket
    log_group: aws.cloudwatch.LogGroup
    key: aws.kms.Key


def create_trail(inputs: TrailInputs, parent: pulumi.Resource) -> TrailResources:
    """Key, bucket, log group, delivery role and the trail itself."""
    name, context = inputs.name, inputs.context
    opts = pulumi.ResourceOptions(parent=parent)
    key = aws.kms.Key(
        f"{name}-trail-key",
        description=f"{name}: CloudTrail log files",
        enable_key_rotation=True,
        deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
        policy=context.render(rules.trail_key_policy, name=name),
        tags=inputs.tags | {"Name": f"{name}-trail-key"},
        opts=pulumi.ResourceOptions(parent=parent, protect=inputs.protect),
    )
    aws.kms.Alias(
        f"{name}-trail-key-alias",
        name=f"alias/{name}/cloudtrail",
        target_key_id=key.key_id,
        opts=opts,
    )
    bucket = create_trail_buckets(
        BucketInputs(
            name=name,
            context=context,
            key_arn=key.arn,
            expiration_days=inputs.expiration_days,
            protect=inputs.protect,
            tags=inputs.tags,
        ),
        parent,
    )
    bucket_policy = aws.s3.BucketPolicy(
        f"{name}-trail-bucket-policy",
        bucket=bucket.id,
        policy=context.render(rules.trail_bucket_policy, name=name, bucket_arn=bucket.arn),
        opts=opts,
    )
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-trail-logs",
        name=f"/aws/cloudtrail/{name}",
        retention_in_days=inputs.log_retention_days,
        kms_key_id=inputs.logs_key_arn,
        tags=inputs.tags,
        opts=pulumi.ResourceOptions(parent=parent, protect=inputs.protect),
    )
    role, role_policy = _create_delivery_role(inputs, log_group, parent)
    trail = aws.cloudtrail.Trail(
        f"{name}-trail",
        name=rules.trail_name(name),
        s3_bucket_name=bucket.id,
        is_multi_region_trail=True,
        include_global_service_events=True,
        enable_log_file_validation=True,
        enable_logging=True,
        kms_key_id=key.arn,
        cloud_watch_logs_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*"),
        cloud_watch_logs_role_arn=role.arn,
        tags=inputs.tags,
        # CloudTrail checks at creation that it may write to the bucket and the log group.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[bucket_policy, role_policy]),
    )
    return TrailResources(trail=trail, bucket=bucket, log_group=log_group, key=key)


def _create_delivery_role(
    inputs: TrailInputs, log_group: aws.cloudwatch.LogGroup, parent: pulumi.Resource
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    name = inputs.name
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-trail-logs-role",
        assume_role_policy=inputs.context.render(rules.trail_logs_assume_role_policy, name=name),
        description="CloudTrail: deliver the trail to its CloudWatch Logs group",
        tags=inputs.tags,
        opts=opts,
    )
    policy = aws.iam.RolePolicy(
        f"{name}-trail-logs-delivery",
        role=role.id,
        policy=inputs.context.render(rules.trail_logs_delivery_policy, log_group_arn=log_group.arn),
        opts=opts,
    )
    return role, policy


def create_cis_filters(
    name: str, log_group: aws.cloudwatch.LogGroup, parent: pulumi.Resource
) -> list[aws.cloudwatch.LogMetricFilter]:
    """One metric filter per CIS control on the trail's log group."""
    return [
        aws.cloudwatch.LogMetricFilter(
            f"{name}-cis-{cis.key}",
            name=f"{name}-cis-{cis.key}",
            log_group_name=log_group.name,
            pattern=cis.pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=rules.cis_metric_name(name, cis),
                namespace=rules.CIS_NAMESPACE,
                value="1",
                default_value="0",
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for cis in rules.CIS_FILTERS
    ]
