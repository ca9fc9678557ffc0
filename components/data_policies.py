"""Policy documents of the data layer, as plain dicts built from plain strings (no Pulumi).

Kept pure so the exact statements can be tested without the mock runtime; the component
renders them with ``json.dumps`` inside ``Output.apply`` once account and region are known.
Deny statements use the bare ``"*"`` principal on purpose: a deny must apply to everyone.
"""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]

# Accounts that write ALB access logs in regions older than August 2022 (AWS "Enable access
# logs for your Application Load Balancer"); newer regions use the log-delivery service
# principal, which we grant everywhere as well.
ELB_LOG_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "ap-south-1": "718504428378",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "sa-east-1": "507241528517",
}

ALB_LOG_PREFIX = "alb"
S3_ACCESS_LOG_PREFIX = "s3"

# Services that publish into our KMS-encrypted topics and queues (alarms, EventBridge rules,
# SNS fan-out to SQS); each is limited to requests made for this account.
PUBLISHING_SERVICES: tuple[str, ...] = (
    "cloudwatch.amazonaws.com",
    "events.amazonaws.com",
    "sns.amazonaws.com",
)

_KEY_USE_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
_LOGS_KEY_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
]
_SNS_TOPIC_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]


def _document(statements: list[Document]) -> Document:
    return {"Version": "2012-10-17", "Statement": statements}


def _root_admin(partition: str, account_id: str) -> Document:
    # The AWS default key-policy statement: the account (through IAM policies) administers
    # and uses the key, so no principal is ever locked out and no principal is "*".
    return {
        "Sid": "EnableAccountAdministrationThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def platform_key_policy(*, partition: str, account_id: str) -> Document:
    """Key policy of the platform CMK (RDS, S3 archive, SQS, SNS, Secrets Manager)."""
    services = {
        "Sid": "AllowAwsServicesToPublishEncryptedMessages",
        "Effect": "Allow",
        "Principal": {"Service": list(PUBLISHING_SERVICES)},
        "Action": list(_KEY_USE_ACTIONS),
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
    return _document([_root_admin(partition, account_id), services])


def logs_key_policy(*, partition: str, account_id: str, region: str) -> Document:
    """Key policy of the logs CMK: CloudWatch Logs may use it for this account's groups."""
    logs = {
        "Sid": "AllowCloudWatchLogsForThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": list(_LOGS_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                )
            }
        },
    }
    return _document([_root_admin(partition, account_id), logs])


def deny_insecure_transport(*, actions: str | list[str], resources: list[str]) -> Document:
    """One statement refusing every request that does not use TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def tls_only_bucket_policy(*, bucket_arn: str) -> Document:
    """Bucket policy of the archive bucket: TLS only (access is granted through IAM)."""
    return _document(
        [deny_insecure_transport(actions="s3:*", resources=[bucket_arn, f"{bucket_arn}/*"])]
    )


def logs_bucket_policy(
    *,
    bucket_arn: str,
    source_bucket_arn: str,
    account_id: str,
    partition: str,
    region: str,
) -> Document:
    """Access-log bucket: S3 server access logs and ALB access logs may write, TLS only."""
    alb_objects = f"{bucket_arn}/{ALB_LOG_PREFIX}/AWSLogs/{account_id}/*"
    statements: list[Document] = [
        {
            "Sid": "AllowS3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/{S3_ACCESS_LOG_PREFIX}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": source_bucket_arn},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        },
        {
            "Sid": "AllowAlbLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": alb_objects,
        },
    ]
    elb_account = ELB_LOG_ACCOUNTS.get(region)
    if elb_account is not None:
        statements.append(
            {
                "Sid": "AllowAlbLogDeliveryRegionalAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{elb_account}:root"},
                "Action": "s3:PutObject",
                "Resource": alb_objects,
            }
        )
    statements.append(
        deny_insecure_transport(actions="s3:*", resources=[bucket_arn, f"{bucket_arn}/*"])
    )
    return _document(statements)


def tls_only_queue_policy(*, queue_arn: str) -> Document:
    """Queue policy: refuse plain-HTTP requests (access itself is granted through IAM)."""
    return _document([deny_insecure_transport(actions="sqs:*", resources=[queue_arn])])


def events_topic_policy(*, topic_arn: str, account_id: str, partition: str) -> Document:
    """Topic policy: the owning account manages and publishes; plain HTTP is refused."""
    owner = {
        "Sid": "AllowOwningAccount",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": list(_SNS_TOPIC_ACTIONS),
        "Resource": topic_arn,
    }
    return _document(
        [owner, deny_insecure_transport(actions=list(_SNS_TOPIC_ACTIONS), resources=[topic_arn])]
    )


def redrive_policy(*, dlq_arn: str, max_receive_count: int) -> Document:
    """The source queue's redrive policy (SQS wants it as a JSON string)."""
    return {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}


def redrive_allow_policy(*, source_queue_arn: str) -> Document:
    """The DLQ accepts dead letters from our job queue only."""
    return {"redrivePermission": "byQueue", "sourceQueueArns": [source_queue_arn]}
