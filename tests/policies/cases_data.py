"""Violating and compliant programs for the DATA rules."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from tests.policies.helpers import ACCOUNT, PROD_TAGS, Case, deny_insecure, doc

KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/platform"


def cluster(*, safe: bool, instances: int = 2, protect: bool = True) -> None:
    params = aws.rds.ClusterParameterGroup(
        "params",
        family="aurora-postgresql16",
        tags=PROD_TAGS,
        parameters=[aws.rds.ClusterParameterGroupParameterArgs(name="rds.force_ssl", value="1")],
    )
    db = aws.rds.Cluster(
        "db",
        engine="aurora-postgresql",
        storage_encrypted=safe,
        kms_key_id=KEY_ARN if safe else None,
        manage_master_user_password=True if safe else None,
        master_username="agatha",
        master_password=None if safe else "hunter2hunter2",
        backup_retention_period=14 if safe else 1,
        copy_tags_to_snapshot=safe,
        skip_final_snapshot=not safe,
        final_snapshot_identifier="db-final" if safe else None,
        deletion_protection=safe,
        db_subnet_group_name="db-subnets",
        db_cluster_parameter_group_name=params.name if safe else None,
        enabled_cloudwatch_logs_exports=["postgresql"] if safe else None,
        tags=PROD_TAGS,
        opts=pulumi.ResourceOptions(protect=protect),
    )
    for i in range(instances):
        aws.rds.ClusterInstance(
            f"db-{i}",
            cluster_identifier=db.id,
            instance_class="db.r7g.large",
            engine=aws.rds.EngineType.AURORA_POSTGRESQL,
            publicly_accessible=not safe,
            performance_insights_enabled=safe,
            performance_insights_kms_key_id=KEY_ARN if safe else None,
            tags=PROD_TAGS,
        )


def cache(*, safe: bool) -> None:
    aws.elasticache.ReplicationGroup(
        "cache",
        description="cache",
        node_type="cache.t4g.small",
        at_rest_encryption_enabled=safe,
        kms_key_id=KEY_ARN if safe else None,
        transit_encryption_enabled=safe,
        auth_token="a-very-long-auth-token-value" if safe else None,
        num_cache_clusters=2 if safe else 1,
        automatic_failover_enabled=safe,
        multi_az_enabled=safe,
        snapshot_retention_limit=7 if safe else 0,
        tags=PROD_TAGS,
    )


def bucket(
    *, safe: bool, purpose: str = "archive", sse: str = "aws:kms", name: str = "archive"
) -> None:
    b = aws.s3.Bucket(name, tags={**PROD_TAGS, "purpose": purpose})
    if not safe:
        return
    aws.s3.BucketPublicAccessBlock(
        f"{name}-pab",
        bucket=b.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=b.id,
        policy=b.arn.apply(lambda arn: doc(deny_insecure(f"{arn}/*"))),
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-sse",
        bucket=b.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm=sse, kms_master_key_id=KEY_ARN if sse != "AES256" else None
                )
            )
        ],
    )
    aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=b.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
    )
    aws.s3.BucketLogging(f"{name}-logging", bucket=b.id, target_bucket="logs", target_prefix="s3/")
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=b.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire",
                status="Enabled",
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=365),
            )
        ],
    )


def messaging(*, safe: bool) -> None:
    queue = aws.sqs.Queue(
        "jobs",
        kms_master_key_id=KEY_ARN if safe else None,
        sqs_managed_sse_enabled=None if safe else False,
        tags=PROD_TAGS,
    )
    public = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
    aws.sqs.QueuePolicy(
        "jobs-policy", queue_url=queue.url, policy=doc(deny_insecure()) if safe else doc(public)
    )
    topic = aws.sns.Topic("events", kms_master_key_id=KEY_ARN if safe else None, tags=PROD_TAGS)
    aws.sns.TopicPolicy("events-policy", arn=topic.arn, policy=doc(deny_insecure()))


def key(*, safe: bool) -> None:
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    public = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    aws.kms.Key(
        "platform",
        enable_key_rotation=safe,
        policy=doc(root) if safe else doc(root, public),
        tags=PROD_TAGS,
    )


def secrets(*, safe: bool) -> None:
    aws.secretsmanager.Secret("jwt", kms_key_id=KEY_ARN if safe else None, tags=PROD_TAGS)
    aws.ssm.Parameter(
        "db-password",
        name="/agatha/prod/db-password",
        value="x",
        type="SecureString" if safe else "String",
        key_id=KEY_ARN if safe else None,
        tags=PROD_TAGS,
    )
    aws.ssm.Parameter(
        "queue-url", name="/agatha/prod/queue-url", type="String", value="https://q", tags=PROD_TAGS
    )


CASES: list[Case] = [
    ("DATA-01", False, lambda: cluster(safe=False)),
    ("DATA-01", True, lambda: cluster(safe=True)),
    ("DATA-02", False, lambda: cluster(safe=False)),
    ("DATA-02", True, lambda: cluster(safe=True)),
    ("DATA-03", False, lambda: cluster(safe=True, instances=1)),
    ("DATA-03", True, lambda: cluster(safe=True)),
    ("DATA-04", False, lambda: cluster(safe=False)),
    ("DATA-04", True, lambda: cluster(safe=True)),
    ("DATA-05", False, lambda: cluster(safe=True, protect=False)),
    ("DATA-05", True, lambda: cluster(safe=True)),
    ("DATA-06", False, lambda: cluster(safe=False)),
    ("DATA-06", True, lambda: cluster(safe=True)),
    ("DATA-07", False, lambda: cache(safe=False)),
    ("DATA-07", True, lambda: cache(safe=True)),
    ("DATA-08", False, lambda: cache(safe=False)),
    ("DATA-08", True, lambda: cache(safe=True)),
    ("DATA-09", False, lambda: bucket(safe=False)),
    ("DATA-09", False, lambda: bucket(safe=True, sse="AES256")),
    ("DATA-09", True, lambda: bucket(safe=True)),
    ("DATA-09", True, lambda: bucket(safe=True, purpose="access-logs", sse="AES256", name="logs")),
    ("DATA-10", False, lambda: bucket(safe=False)),
    ("DATA-10", True, lambda: bucket(safe=True)),
    ("DATA-11", False, lambda: messaging(safe=False)),
    ("DATA-11", True, lambda: messaging(safe=True)),
    ("DATA-12", False, lambda: key(safe=False)),
    ("DATA-12", True, lambda: key(safe=True)),
    ("DATA-13", False, lambda: secrets(safe=False)),
    ("DATA-13", True, lambda: secrets(safe=True)),
]
