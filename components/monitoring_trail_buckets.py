"""The trail's S3 buckets: the log-file bucket and the bucket holding its access logs.

S3 server access logs cannot be delivered to an SSE-KMS bucket, and the data layer's
access-log bucket admits only the archive bucket as a source: so the trail bucket logs
to its own small AES256 bucket (tagged purpose=access-logs), as CIS 3.4 asks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import monitoring_cloudtrail_rules as rules
from components.data_keys import AwsContext
from components.s3_buckets import private_bucket

ABORT_MULTIPART_DAYS = 7
NONCURRENT_VERSION_DAYS = 90
GLACIER_AFTER_DAYS = 90
ACCESS_LOG_DAYS = 365
ACCESS_LOG_PREFIX = "s3/trail/"

SseRule = aws.s3.BucketServerSideEncryptionConfigurationRuleArgs
SseDefault = (
    aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
)
Rule = aws.s3.BucketLifecycleConfigurationRuleArgs


@dataclass(frozen=True)
class BucketInputs:
    """What the trail buckets need."""

    name: str
    context: AwsContext
    key_arn: pulumi.Input[str]
    expiration_days: int
    protect: bool
    tags: dict[str, str]


def create_trail_buckets(inputs: BucketInputs, parent: pulumi.Resource) -> aws.s3.Bucket:
    """Both buckets, their policies and lifecycles; returns the log-file bucket."""
    name, opts = inputs.name, pulumi.ResourceOptions(parent=parent)
    bucket = private_bucket(
        f"{name}-trail-bucket",
        encryption=SseRule(
            apply_server_side_encryption_by_default=SseDefault(
                sse_algorithm="aws:kms", kms_master_key_id=inputs.key_arn
            ),
            bucket_key_enabled=True,
        ),
        tags=inputs.tags | {"purpose": "audit"},
        protect=inputs.protect,
        parent=parent,
    )
    access = private_bucket(
        f"{name}-trail-access-logs",
        encryption=SseRule(
            apply_server_side_encryption_by_default=SseDefault(sse_algorithm="AES256")
        ),
        tags=inputs.tags | {"purpose": "access-logs"},
        protect=False,
        parent=parent,
    )
    aws.s3.BucketPolicy(
        f"{name}-trail-access-logs-policy",
        bucket=access.id,
        policy=inputs.context.render(
            rules.access_log_bucket_policy,
            bucket_arn=access.arn,
            source_bucket_arn=bucket.arn,
            prefix=ACCESS_LOG_PREFIX,
        ),
        opts=opts,
    )
    aws.s3.BucketLogging(
        f"{name}-trail-bucket-logging",
        bucket=bucket.id,
        target_bucket=access.id,
        target_prefix=ACCESS_LOG_PREFIX,
        opts=opts,
    )
    _lifecycle(f"{name}-trail-bucket", bucket, _audit_rule(inputs.expiration_days), parent)
    _lifecycle(f"{name}-trail-access-logs", access, _expiry_rule(ACCESS_LOG_DAYS), parent)
    return bucket


def _common(rule_id: str) -> dict[str, object]:
    return {
        "id": rule_id,
        "status": "Enabled",
        "filter": aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        "noncurrent_version_expiration": (
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=NONCURRENT_VERSION_DAYS
            )
        ),
        "abort_incomplete_multipart_upload": (
            aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_MULTIPART_DAYS
            )
        ),
    }


def _audit_rule(expiration_days: int) -> Rule:
    return Rule(
        transitions=[
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                days=GLACIER_AFTER_DAYS, storage_class="GLACIER"
            )
        ],
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expiration_days),
        **_common("audit-tiering-and-expiry"),  # type: ignore[arg-type]
    )


def _expiry_rule(days: int) -> Rule:
    return Rule(
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
        **_common("access-log-expiry"),  # type: ignore[arg-type]
    )


def _lifecycle(
    resource_name: str, bucket: aws.s3.Bucket, rule: Rule, parent: pulumi.Resource
) -> None:
    aws.s3.BucketLifecycleConfiguration(
        f"{resource_name}-lifecycle",
        bucket=bucket.id,
        rules=[rule],
        opts=pulumi.ResourceOptions(parent=parent),
    )
