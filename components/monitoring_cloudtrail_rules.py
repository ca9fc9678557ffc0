"""CloudTrail's pure parts: key, bucket and role policies, and the CIS metric-filter table.

Policies follow the AWS CloudTrail guide ("Amazon S3 bucket policy for CloudTrail",
"Configure AWS KMS key policies for CloudTrail"); every service grant is pinned to this
trail with ``aws:SourceArn``. The filters are the CIS AWS Foundations Benchmark v3.0.0
section 4 patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config.monitoring import MonitoringConfig
from components.monitoring_alarms import AlarmSpec

Document = dict[str, Any]
CIS_NAMESPACE = "AgathaAI/CIS"
TRAIL_LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]


def trail_name(name: str) -> str:
    """Physical name of the stack's trail."""
    return f"{name}-trail"


def trail_arn(*, name: str, partition: str, region: str, account_id: str) -> str:
    """The trail's ARN, known before it exists (policies must name it to let it write)."""
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{trail_name(name)}"


def _document(statements: list[Document]) -> Document:
    return {"Version": "2012-10-17", "Statement": statements}


def trail_key_policy(*, partition: str, account_id: str, region: str, name: str) -> Document:
    """Key policy: the account administers (readers decrypt through IAM); this trail encrypts."""
    trail = trail_arn(name=name, partition=partition, region=region, account_id=account_id)
    context_key = "kms:EncryptionContext:aws:cloudtrail:arn"
    any_trail = f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"
    return _document(
        [
            {
                "Sid": "EnableAccountAdministrationThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "AllowCloudTrailToEncryptLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail},
                    "StringLike": {context_key: any_trail},
                },
            },
            {
                "Sid": "AllowCloudTrailToDescribeKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
            },
        ]
    )


def trail_bucket_policy(
    *, bucket_arn: str, partition: str, region: str, account_id: str, name: str
) -> Document:
    """Bucket policy: this trail checks the ACL and writes its prefix; TLS only."""
    trail = trail_arn(name=name, partition=partition, region=region, account_id=account_id)
    service = {"Service": "cloudtrail.amazonaws.com"}
    return _document(
        [
            {
                "Sid": "AllowCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": service,
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
            },
            {
                "Sid": "AllowCloudTrailWrite",
                "Effect": "Allow",
                "Principal": service,
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": trail,
                    }
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def access_log_bucket_policy(
    *, bucket_arn: str, source_bucket_arn: str, account_id: str, prefix: str
) -> Document:
    """Access-log bucket: S3 server access logging of the trail bucket writes; TLS only."""
    return _document(
        [
            {
                "Sid": "AllowS3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{prefix}*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def trail_logs_assume_role_policy(
    *, partition: str, region: str, account_id: str, name: str
) -> Document:
    """Trust policy: only this trail may assume the delivery role."""
    trail = trail_arn(name=name, partition=partition, region=region, account_id=account_id)
    return _document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceArn": trail}},
            }
        ]
    )


def trail_logs_delivery_policy(*, log_group_arn: str) -> Document:
    """The delivery role writes streams of the trail's log group and nothing else."""
    return _document(
        [
            {
                "Sid": "WriteTrailLogStreams",
                "Effect": "Allow",
                "Action": TRAIL_LOG_ACTIONS,
                "Resource": f"{log_group_arn}:log-stream:*",
            }
        ]
    )


@dataclass(frozen=True)
class CisFilter:
    """One CIS metric filter and the severity of its alarm."""

    key: str
    control: str
    pattern: str
    severity: str
    summary: str


def _events(*names: str, source: str | None = None) -> str:
    any_name = " || ".join(f"($.eventName = {n})" for n in names)
    if source is None:
        return f"{{ {any_name} }}"
    return f"{{ ($.eventSource = {source}) && ({any_name}) }}"


CIS_FILTERS: tuple[CisFilter, ...] = (
    CisFilter(
        "unauthorized-api-calls",
        "4.1",
        '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) '
        '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") '
        '&& ($.eventName != "HeadBucket") }',
        "warning",
        "Unauthorized API calls in the account.",
    ),
    CisFilter(
        "root-usage",
        "4.3",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }',
        "critical",
        "The root user was used.",
    ),
    CisFilter(
        "iam-policy-changes",
        "4.4",
        _events(
            "DeleteGroupPolicy",
            "DeleteRolePolicy",
            "DeleteUserPolicy",
            "PutGroupPolicy",
            "PutRolePolicy",
            "PutUserPolicy",
            "CreatePolicy",
            "DeletePolicy",
            "CreatePolicyVersion",
            "DeletePolicyVersion",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "AttachGroupPolicy",
            "DetachGroupPolicy",
            source="iam.amazonaws.com",
        ),
        "warning",
        "IAM policy changed.",
    ),
    CisFilter(
        "kms-key-disable-delete",
        "4.7",
        _events("DisableKey", "ScheduleKeyDeletion", source="kms.amazonaws.com"),
        "critical",
        "A KMS customer key was disabled or scheduled for deletion.",
    ),
    CisFilter(
        "security-group-changes",
        "4.10",
        _events(
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
        ),
        "info",
        "Security group changed.",
    ),
    CisFilter(
        "nacl-changes",
        "4.11",
        _events(
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        ),
        "info",
        "Network ACL changed.",
    ),
    CisFilter(
        "network-gateway-changes",
        "4.12",
        _events(
            "CreateCustomerGateway",
            "DeleteCustomerGateway",
            "AttachInternetGateway",
            "CreateInternetGateway",
            "DeleteInternetGateway",
            "DetachInternetGateway",
        ),
        "info",
        "Network gateway changed.",
    ),
    CisFilter(
        "route-table-changes",
        "4.13",
        _events(
            "CreateRoute",
            "CreateRouteTable",
            "ReplaceRoute",
            "ReplaceRouteTableAssociation",
            "DeleteRouteTable",
            "DeleteRoute",
            "DisassociateRouteTable",
            source="ec2.amazonaws.com",
        ),
        "info",
        "Route table changed.",
    ),
    CisFilter(
        "vpc-changes",
        "4.14",
        _events(
            "CreateVpc",
            "DeleteVpc",
            "ModifyVpcAttribute",
            "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection",
            "DeleteVpcPeeringConnection",
            "RejectVpcPeeringConnection",
            "AttachClassicLinkVpc",
            "DetachClassicLinkVpc",
            "DisableVpcClassicLink",
            "EnableVpcClassicLink",
        ),
        "info",
        "VPC changed.",
    ),
)


def cis_metric_name(name: str, cis: CisFilter) -> str:
    """Metric name per stack, so two stacks in one account never share a counter."""
    return f"{name}-{cis.key}"


def cis_alarm_specs(name: str, config: MonitoringConfig) -> list[AlarmSpec]:
    """One alarm per CIS filter when ``cisAlarmsEnabled``; none otherwise."""
    if not (config.cloudtrail_enabled and config.cis_alarms_enabled):
        return []
    return [
        AlarmSpec(
            name=f"cis-{cis.key}",
            runbook="security-events",
            severity=cis.severity,
            summary=f"CIS {cis.control}: {cis.summary}",
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            periods=1,
            period_seconds=300,
            namespace=CIS_NAMESPACE,
            metric=cis_metric_name(name, cis),
            statistic="Sum",
        )
        for cis in CIS_FILTERS
    ]
