"""Observability rules: CloudTrail, log retention, alarm hygiene and alarm coverage."""

from __future__ import annotations

import re

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from policies.framework import Enforcement, Reporter, rule
from policies.props import as_list, get, num, show, strings, tags, truthy
from policies.topology import StackIndex

TRAIL = "aws:cloudtrail/trail:Trail"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
DATADOG_MONITOR = "datadog:index/monitor:Monitor"
TOPIC_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
AUDIT_NAME = re.compile(r"(audit|cloudtrail|trail|flow)", re.I)
MIN_PRODUCTION_RETENTION = 90
MIN_AUDIT_RETENTION = 365
MIN_AWS_EVALUATION_DELAY = 900
NOTIFICATION_HANDLE = re.compile(r"@[\w.+-]+")

# coverage area -> (resource types that need it, CloudWatch namespaces, Datadog metric prefixes)
COVERAGE: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "gateway": (
        ("aws:ecs/service:Service", "aws:lb/loadBalancer:LoadBalancer"),
        ("AWS/ApplicationELB", "AWS/ECS", "ECS/ContainerInsights"),
        ("aws.applicationelb", "aws.ecs"),
    ),
    "worker": (("aws:lambda/function:Function",), ("AWS/Lambda",), ("aws.lambda",)),
    "queue DLQ": (("aws:sqs/queue:Queue",), ("AWS/SQS",), ("aws.sqs",)),
    "database": (
        ("aws:rds/cluster:Cluster", "aws:rds/instance:Instance"),
        ("AWS/RDS",),
        ("aws.rds",),
    ),
    "cache": (
        ("aws:elasticache/replicationGroup:ReplicationGroup",),
        ("AWS/ElastiCache",),
        ("aws.elasticache",),
    ),
}


@rule(
    id="OBS-01",
    name="cloudtrail-hardened",
    description=(
        "CloudTrail trails are multi-region, validate log files, encrypt with KMS and deliver to "
        "CloudWatch Logs."
    ),
    rationale=(
        "The audit trail must cover every region, be tamper-evident and be searchable during an "
        "incident."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Set is_multi_region_trail=True, enable_log_file_validation=True, kms_key_id and "
    "cloud_watch_logs_group_arn/cloud_watch_logs_role_arn.",
    references=(
        "CKV_AWS_35",
        "CKV_AWS_36",
        "CKV_AWS_67",
        "CKV_AWS_252",
        "CIS 3.1",
        "CIS 3.2",
        "CIS 3.5",
    ),
    resource_types=(TRAIL,),
)
def cloudtrail_hardened(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    checks = {
        "not multi-region": truthy(get(props, "isMultiRegionTrail")),
        "log file validation is off": truthy(get(props, "enableLogFileValidation")),
        "not encrypted with KMS": get(props, "kmsKeyId") is not None,
        "not delivered to CloudWatch Logs": get(props, "cloudWatchLogsGroupArn") is not None,
    }
    for problem, ok in checks.items():
        if not ok:
            report.violation(f"trail {problem}")


@rule(
    id="OBS-02",
    name="log-group-retention-and-encryption",
    description=(
        "Log groups set retention (90+ days and KMS in production, 365+ days for audit logs)."
    ),
    rationale="Logs kept forever cost money and hold personal data; too short loses the evidence.",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set retention_in_days (logRetentionDays / auditLogRetentionDays) and kms_key_id=<logs key"
        " ARN>."
    ),
    references=("CKV_AWS_66", "CKV_AWS_158", "CKV_AWS_338"),
    resource_types=(LOG_GROUP,),
)
def log_group_retention_and_encryption(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    days = num(get(props, "retentionInDays"))
    audit = tags(props).get("purpose") == "audit" or AUDIT_NAME.search(
        str(get(props, "name", default=args.name))
    )
    if days is None or days == 0:
        report.violation("retention is not set (logs never expire)")
    elif audit and days < MIN_AUDIT_RETENTION:
        report.violation(
            f"audit log retention {show(days)} < {MIN_AUDIT_RETENTION} days", production_only=True
        )
    elif days < MIN_PRODUCTION_RETENTION:
        report.violation(
            f"retention {show(days)} < {MIN_PRODUCTION_RETENTION} days", production_only=True
        )
    if get(props, "kmsKeyId") is None:
        report.violation("log group is not encrypted with KMS", production_only=True)


def _check_datadog_monitor(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    if not as_list(get(props, "tags")):
        report.violation("monitor has no tags")
    if not NOTIFICATION_HANDLE.search(str(get(props, "message", default=""))):
        report.violation("monitor message has no @notification handle")
    if get(props, "priority") is None:
        report.violation("monitor has no priority")
    if "aws." in str(get(props, "query", default="")):
        delay = num(get(props, "evaluationDelay")) or 0
        if delay < MIN_AWS_EVALUATION_DELAY:
            report.violation(
                f"AWS-metric monitor evaluation_delay {show(delay)} < {MIN_AWS_EVALUATION_DELAY} s"
            )


@rule(
    id="OBS-03",
    name="alarms-notify",
    description=(
        "CloudWatch alarms have actions; Datadog monitors carry tags, a notification handle, a "
        "priority and, for AWS metrics, a 900 s evaluation delay."
    ),
    rationale=(
        "An alarm nobody hears is no alarm; AWS metrics arrive in Datadog late and flap without a "
        "delay."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Give alarms alarm_actions (the severity topics); give monitors tags, an @handle in the "
        "message, priority and evaluation_delay=900 for aws.* queries."
    ),
    references=("CKV_AWS_319",),
    resource_types=(METRIC_ALARM, COMPOSITE_ALARM, DATADOG_MONITOR),
)
def alarms_notify(args: ResourceValidationArgs, report: Reporter) -> None:
    if args.resource_type == DATADOG_MONITOR:
        _check_datadog_monitor(args, report)
        return
    if get(args.props, "actionsEnabled") is False or not as_list(get(args.props, "alarmActions")):
        report.violation("alarm has no enabled alarm actions")


def _dead_letter_queues(index: StackIndex) -> list[PolicyResource]:
    queues = index.of_type("aws:sqs/queue:Queue")
    targets = {
        d.urn for q in queues for d in index.linked(q, "redrivePolicy", "aws:sqs/queue:Queue")
    }
    return [q for q in queues if q.urn in targets]


def _covered(index: StackIndex, namespaces: tuple[str, ...], prefixes: tuple[str, ...]) -> bool:
    for alarm in index.of_type(METRIC_ALARM):
        spaces = [get(alarm.props, "namespace")] + [
            get(q, "metric", "namespace") for q in as_list(get(alarm.props, "metricQueries"))
        ]
        if any(s in namespaces for s in spaces):
            return True
    return any(
        any(p in str(get(m.props, "query", default="")) for p in prefixes)
        for m in index.of_type(DATADOG_MONITOR)
    )


@rule(
    id="OBS-04",
    name="alarm-coverage",
    description=(
        "The gateway, worker, dead-letter queue, database and cache each have at least one alarm "
        "or monitor."
    ),
    rationale="Each of these fails differently; an uncovered one fails silently.",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.PRODUCTION,
    remediation=(
        "Add CloudWatch alarms (or Datadog monitors) for ALB 5xx/ECS, Lambda errors, DLQ depth, "
        "RDS CPU/connections and ElastiCache memory in the monitoring component."
    ),
    references=(),
    resource_types=(METRIC_ALARM, DATADOG_MONITOR),
    scope="stack",
)
def alarm_coverage(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for area, (types, namespaces, prefixes) in COVERAGE.items():
        present = _dead_letter_queues(index) if area == "queue DLQ" else index.of_type(*types)
        if present and not _covered(index, namespaces, prefixes):
            report.violation(
                f"no alarm or monitor covers the {area} ({present[0].name})", present[0].urn
            )


@rule(
    id="OBS-05",
    name="alert-subscriptions-encrypted",
    description=(
        "Alert topic subscriptions deliver over HTTPS, email, SQS or Lambda, never plain HTTP."
    ),
    rationale="Alert payloads name resources and errors; plain HTTP leaks them and can be spoofed.",
    severity=Severity.LOW,
    enforcement=Enforcement.MANDATORY,
    remediation="Use protocol 'https' (PagerDuty/Slack endpoints) instead of 'http'.",
    references=("AwsSolutions-SNS3 (analogue)",),
    resource_types=(TOPIC_SUBSCRIPTION,),
)
def alert_subscriptions_encrypted(args: ResourceValidationArgs, report: Reporter) -> None:
    protocol = get(args.props, "protocol")
    endpoint = str(get(args.props, "endpoint", default=""))
    if protocol == "http" or endpoint.startswith("http://"):
        report.violation(f"subscription delivers over plain HTTP to {strings(endpoint)}")
