"""Violating and compliant programs for the OBS and GOV rules."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi_aws as aws
import pulumi_datadog as datadog

from tests.policies.cases_compute import function
from tests.policies.helpers import ACCOUNT, PROD_TAGS, Case, assume, doc

KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/platform"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:critical"


def trail(*, safe: bool) -> None:
    aws.cloudtrail.Trail(
        "trail",
        s3_bucket_name="audit",
        is_multi_region_trail=safe,
        enable_log_file_validation=safe,
        kms_key_id=KEY_ARN if safe else None,
        cloud_watch_logs_group_arn="arn:aws:logs:us-east-1:1:log-group:trail:*" if safe else None,
        cloud_watch_logs_role_arn="arn:aws:iam::1:role/trail" if safe else None,
        tags=PROD_TAGS,
    )


def log_group(*, days: int | None, kms: bool = True, name: str = "/agatha/gateway") -> None:
    aws.cloudwatch.LogGroup(
        "logs",
        name=name,
        retention_in_days=days,
        kms_key_id=KEY_ARN if kms else None,
        tags=PROD_TAGS,
    )


def alarm(*, actions: bool, namespace: str = "AWS/Lambda") -> None:
    aws.cloudwatch.MetricAlarm(
        "errors",
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=1,
        threshold=1,
        metric_name="Errors",
        namespace=namespace,
        period=60,
        statistic="Sum",
        alarm_actions=[TOPIC_ARN] if actions else None,
        tags=PROD_TAGS,
    )


def monitor(*, safe: bool) -> None:
    datadog.Monitor(
        "rds-cpu",
        name="RDS CPU",
        type="metric alert",
        query="avg(last_10m):avg:aws.rds.cpuutilization{env:prod} > 90",
        message="RDS CPU high @pagerduty-agatha" if safe else "RDS CPU high",
        tags=["env:prod", "service:agatha"] if safe else None,
        priority="2" if safe else None,
        evaluation_delay=900 if safe else None,
    )


def subscription(protocol: str, endpoint: str) -> None:
    aws.sns.TopicSubscription("page", topic=TOPIC_ARN, protocol=protocol, endpoint=endpoint)


def role_policy(statement: Mapping[str, object]) -> None:
    role = aws.iam.Role("worker", assume_role_policy=assume("lambda.amazonaws.com"), tags=PROD_TAGS)
    aws.iam.RolePolicy("worker-policy", role=role.id, policy=doc(statement))


def trust(principal: object, condition: dict[str, object] | None = None) -> None:
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    aws.iam.Role("role", assume_role_policy=doc(statement), tags=PROD_TAGS)


QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
SCOPED = {
    "Effect": "Allow",
    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
    "Resource": QUEUE_ARN,
}
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"

CASES: list[Case] = [
    ("OBS-01", False, lambda: trail(safe=False)),
    ("OBS-01", True, lambda: trail(safe=True)),
    ("OBS-02", False, lambda: log_group(days=None)),
    ("OBS-02", False, lambda: log_group(days=90, name="/agatha/audit")),
    ("OBS-02", True, lambda: log_group(days=90)),
    ("OBS-02", True, lambda: log_group(days=400, name="/agatha/audit")),
    ("OBS-03", False, lambda: alarm(actions=False)),
    ("OBS-03", False, lambda: monitor(safe=False)),
    ("OBS-03", True, lambda: alarm(actions=True)),
    ("OBS-03", True, lambda: monitor(safe=True)),
    ("OBS-04", False, lambda: function() and None),
    ("OBS-04", True, lambda: None),
    ("OBS-05", False, lambda: subscription("http", "http://hooks.example.com/alert")),
    (
        "OBS-05",
        True,
        lambda: subscription("https", "https://events.pagerduty.com/integration/x/enqueue"),
    ),
    ("GOV-01", False, lambda: role_policy({"Effect": "Allow", "Action": "*", "Resource": "*"})),
    (
        "GOV-01",
        False,
        lambda: role_policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}),
    ),
    (
        "GOV-01",
        False,
        lambda: (
            aws.iam.RolePolicyAttachment(
                "admin", role="worker", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess"
            )
            and None
        ),
    ),
    ("GOV-01", True, lambda: role_policy(SCOPED)),
    ("GOV-02", False, lambda: trust("*")),
    ("GOV-02", False, lambda: trust({"Federated": OIDC})),
    ("GOV-02", False, lambda: trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
    ("GOV-02", True, lambda: trust({"Service": "ecs-tasks.amazonaws.com"})),
    (
        "GOV-02",
        True,
        lambda: trust(
            {"Federated": OIDC},
            {"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:agatha/platform:*"}},
        ),
    ),
    ("GOV-03", False, lambda: aws.s3.Bucket("untagged") and None),
    ("GOV-03", True, lambda: aws.s3.Bucket("tagged", tags=PROD_TAGS) and None),
    ("GOV-04", False, lambda: aws.iam.AccessKey("ci", user="ci") and None),
    ("GOV-04", True, lambda: trust({"Service": "lambda.amazonaws.com"})),
]
