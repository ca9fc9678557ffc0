"""The one way this platform makes an S3 bucket: private, owner-enforced, encrypted, versioned.

pulumi-aws v7 splits a bucket's controls into separate resources; every layer that needs a
bucket (data archive and logs, CloudTrail) builds it here so the policy pack's joined
bucket rule (DATA-09) sees the same controls everywhere.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def private_bucket(
    resource_name: str,
    *,
    encryption: aws.s3.BucketServerSideEncryptionConfigurationRuleArgs,
    tags: dict[str, str],
    protect: bool,
    parent: pulumi.Resource,
) -> aws.s3.Bucket:
    """A bucket with all four public-access blocks, ``encryption`` and versioning on."""
    child = pulumi.ResourceOptions(parent=parent)
    # No explicit bucket name: Pulumi appends a random suffix, so names stay globally unique.
    bucket = aws.s3.Bucket(
        resource_name,
        force_destroy=False,
        tags=tags | {"Name": resource_name},
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    aws.s3.BucketOwnershipControls(
        f"{resource_name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    aws.s3.BucketPublicAccessBlock(
        f"{resource_name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{resource_name}-encryption", bucket=bucket.id, rules=[encryption], opts=child
    )
    aws.s3.BucketVersioning(
        f"{resource_name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        opts=child,
    )
    return bucket
