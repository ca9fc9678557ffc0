"""Datadog monitors, SLOs and the integration role policy as pure data (no SDK import).

Queries are templates over the resource names the AWS integration tags metrics with
(``{alb}`` = ALB ARN suffix, ``{queue}``, ``{dlq}``, ``{function}``); the component fills
them once the names are known. Every metric here is crawled from CloudWatch, which lags
by up to ~10 minutes: hence the evaluation delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config.monitoring import MonitoringConfig
from components.monitoring_alarms import RUNBOOK_DIR, SEVERITIES

DATADOG_AWS_ACCOUNT_ID = "464622532012"
AWS_CRAWLER_EVALUATION_DELAY_SECONDS = 900
PRIORITY = {"critical": "1", "warning": "3", "info": "4"}
SLO_TIMEFRAMES = ("7d", "30d")
# Namespaces Datadog collects: the platform's services and nothing else (cost and noise).
DATADOG_NAMESPACES = (
    "AWS/ApplicationELB",
    "AWS/ECS",
    "ECS/ContainerInsights",
    "AWS/Lambda",
    "AWS/SQS",
    "AWS/RDS",
    "AWS/ElastiCache",
)
# Read-only calls the Datadog AWS integration makes for metrics, tags and traces.
DATADOG_READ_ACTIONS = (
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",
    "cloudwatch:DescribeAlarms",
    "ecs:DescribeClusters",
    "ecs:DescribeServices",
    "ecs:DescribeTasks",
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:ListTasks",
    "elasticache:DescribeCacheClusters",
    "elasticache:DescribeReplicationGroups",
    "elasticache:ListTagsForResource",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTags",
    "lambda:ListFunctions",
    "lambda:ListTags",
    "rds:DescribeDBClusters",
    "rds:DescribeDBInstances",
    "rds:ListTagsForResource",
    "sqs:ListQueues",
    "sqs:ListQueueTags",
    "tag:GetResources",
    "tag:GetTagKeys",
    "tag:GetTagValues",
    "xray:BatchGetTraces",
    "xray:GetTraceSummaries",
)


@dataclass(frozen=True)
class MonitorSpec:
    """One Datadog metric monitor."""

    key: str
    title: str
    runbook: str
    severity: str
    query_template: str
    critical: float
    warning: float | None = None

    @property
    def runbook_path(self) -> str:
        """Repository path of the runbook for this monitor."""
        return f"{RUNBOOK_DIR}/{self.runbook}.md"

    def query(self, targets: dict[str, str]) -> str:
        """The query with resource names filled in (Datadog tag values are lower case)."""
        return self.query_template.format(**{k: v.lower() for k, v in targets.items()})

    def message(self, handle: str) -> str:
        """Notification text: what fired, the runbook, who is told."""
        lines = [
            f"{self.title} (severity {self.severity}).",
            f"Runbook: {self.runbook_path}",
        ]
        if handle:
            lines.append(f"Notify: {handle}")
        return "\n".join(lines)


def monitor_specs(config: MonitoringConfig) -> list[MonitorSpec]:
    """Monitors mirroring the service objectives."""
    elb = "aws.applicationelb"
    return [
        MonitorSpec(
            key="gateway-error-rate",
            title="Gateway 5xx rate high",
            runbook="gateway-errors",
            severity="critical",
            query_template=(
                f"sum(last_10m):sum:{elb}.httpcode_target_5xx{{{{loadbalancer:{{alb}}}}}}.as_count()"
                f" / sum:{elb}.request_count{{{{loadbalancer:{{alb}}}}}}.as_count() * 100"
                f" > {config.alb_5xx_rate_percent}"
            ),
            critical=config.alb_5xx_rate_percent,
            warning=config.alb_5xx_rate_percent / 2,
        ),
        MonitorSpec(
            key="gateway-latency",
            title="Gateway p99 latency high",
            runbook="gateway-latency",
            severity="warning",
            query_template=(
                f"avg(last_15m):avg:{elb}.target_response_time.p99{{{{loadbalancer:{{alb}}}}}}"
                f" > {config.alb_p99_latency_seconds}"
            ),
            critical=config.alb_p99_latency_seconds,
        ),
        MonitorSpec(
            key="queue-age",
            title="Inference queue backlog",
            runbook="queue-backlog",
            severity="critical",
            query_template=(
                "max(last_15m):max:aws.sqs.approximate_age_of_oldest_message"
                f"{{{{queuename:{{queue}}}}}} > {config.queue_age_seconds}"
            ),
            critical=config.queue_age_seconds,
        ),
        MonitorSpec(
            key="worker-failure-rate",
            title="Worker failure rate high",
            runbook="worker-errors",
            severity="warning",
            query_template=(
                "sum(last_15m):sum:aws.lambda.errors{{functionname:{function}}}.as_count()"
                " / sum:aws.lambda.invocations{{functionname:{function}}}.as_count() * 100"
                f" > {config.worker_failure_rate_percent}"
            ),
            critical=config.worker_failure_rate_percent,
        ),
        MonitorSpec(
            key="dlq-depth",
            title="Jobs in the dead-letter queue",
            runbook="queue-dlq",
            severity="warning",
            query_template=(
                "max(last_10m):max:aws.sqs.approximate_number_of_messages_visible"
                "{{queuename:{dlq}}} > 0"
            ),
            critical=0,
        ),
    ]


def monitor_tags(tags: dict[str, str], spec: MonitorSpec) -> list[str]:
    """Datadog ``key:value`` tags: the stack's required tags plus severity and runbook."""
    base = [f"{k}:{v}" for k, v in sorted(tags.items())]
    return [*base, f"severity:{spec.severity}", f"runbook:{spec.runbook}"]


def availability_queries(alb: str) -> tuple[str, str]:
    """(good, total) request counts for the availability SLO."""
    selector = f"{{loadbalancer:{alb.lower()}}}"
    total = f"sum:aws.applicationelb.request_count{selector}.as_count()"
    errors = f"sum:aws.applicationelb.httpcode_target_5xx{selector}.as_count()"
    return f"{total} - {errors}", total


def latency_query(alb: str) -> str:
    """p99 target response time of the ALB, for the time-slice latency SLO."""
    return f"avg:aws.applicationelb.target_response_time.p99{{loadbalancer:{alb.lower()}}}"


def integration_assume_role_policy(*, external_id: str) -> dict[str, Any]:
    """Trust: Datadog's AWS account, only with our integration's external id."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DATADOG_AWS_ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def integration_role_policy() -> dict[str, Any]:
    """Read-only metrics, tags and traces; these list/describe calls have no resource scope."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DatadogReadOnly",
                "Effect": "Allow",
                "Action": list(DATADOG_READ_ACTIONS),
                "Resource": "*",
            }
        ],
    }


def service_dashboard(*, title: str, targets: dict[str, str], slo_ids: list[str]) -> dict[str, Any]:
    """Datadog dashboard JSON: traffic, errors, latency, queue, worker and the SLOs."""
    alb = f"loadbalancer:{targets['alb'].lower()}"
    queue = f"queuename:{targets['queue'].lower()}"
    dlq = f"queuename:{targets['dlq'].lower()}"
    function = f"functionname:{targets['function'].lower()}"

    def series(widget_title: str, *queries: str) -> dict[str, Any]:
        return {
            "definition": {
                "type": "timeseries",
                "title": widget_title,
                "requests": [{"q": q, "display_type": "line"} for q in queries],
            }
        }

    widgets = [
        series(
            "Gateway requests and 5xx",
            f"sum:aws.applicationelb.request_count{{{alb}}}.as_count()",
            f"sum:aws.applicationelb.httpcode_target_5xx{{{alb}}}.as_count()",
        ),
        series(
            "Gateway p99 latency (s)", f"avg:aws.applicationelb.target_response_time.p99{{{alb}}}"
        ),
        series(
            "Oldest queued job (s)", f"max:aws.sqs.approximate_age_of_oldest_message{{{queue}}}"
        ),
        series(
            "Dead-letter queue depth",
            f"max:aws.sqs.approximate_number_of_messages_visible{{{dlq}}}",
        ),
        series(
            "Worker invocations and errors",
            f"sum:aws.lambda.invocations{{{function}}}.as_count()",
            f"sum:aws.lambda.errors{{{function}}}.as_count()",
        ),
        *(
            {
                "definition": {
                    "type": "slo",
                    "view_type": "detail",
                    "slo_id": slo_id,
                    "time_windows": list(SLO_TIMEFRAMES),
                }
            }
            for slo_id in slo_ids
        ),
    ]
    return {"title": title, "layout_type": "ordered", "widgets": widgets}


def check_handles(handles: dict[str, str]) -> None:
    """Every severity needs a key in the handle map (an empty handle means 'nobody')."""
    missing = [s for s in SEVERITIES if s not in handles]
    if missing:
        raise ValueError(
            f"alerting.datadog_handles lacks severities {missing}; give each severity a handle"
        )
