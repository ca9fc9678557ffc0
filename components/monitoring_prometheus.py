"""Where the gateway's telemetry goes, built before Compute so its task can point there.

``MetricsWorkspaces`` holds Amazon Managed Prometheus + Grafana (``prometheusEnabled``)
and the Secrets Manager secret of the Datadog API key (``datadogEnabled``); the compute
layer adds the collector and agent sidecars from these outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.config.monitoring import MonitoringConfig
from components.data_keys import AwsContext

# Queries Grafana makes against the workspace (AmazonPrometheusQueryAccess, narrowed).
APS_QUERY_ACTIONS = ("aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata")
# Reads Grafana's CloudWatch data source makes (AmazonGrafanaCloudWatchAccess, narrowed);
# these actions support no resource-level scoping.
CLOUDWATCH_READ_ACTIONS = (
    "cloudwatch:DescribeAlarmsForMetric",
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:ListMetrics",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:GetInsightRuleReport",
    "logs:DescribeLogGroups",
    "logs:GetLogGroupFields",
    "logs:StartQuery",
    "logs:StopQuery",
    "logs:GetQueryResults",
    "logs:GetLogEvents",
    "ec2:DescribeTags",
    "ec2:DescribeInstances",
    "ec2:DescribeRegions",
    "tag:GetResources",
)
GRAFANA_DATA_SOURCES = ("PROMETHEUS", "CLOUDWATCH")


class TelemetryKeys(Protocol):
    """What the workspaces need from the data layer."""

    @property
    def platform_key_arn(self) -> pulumi.Input[str]: ...

    @property
    def logs_key_arn(self) -> pulumi.Input[str]: ...


@dataclass
class MetricsWorkspacesArgs:
    """Inputs of the telemetry destinations."""

    config: MonitoringConfig
    data: TelemetryKeys
    log_retention_days: int
    tags: dict[str, str] = field(default_factory=dict)


def grafana_assume_role_policy(*, account_id: str) -> dict[str, Any]:
    """Trust: Amazon Managed Grafana, for workspaces of this account only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "grafana.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def grafana_role_policy(*, workspace_arn: str) -> dict[str, Any]:
    """Query our Prometheus workspace; read CloudWatch metrics, alarms and logs."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "QueryPlatformPrometheus",
                "Effect": "Allow",
                "Action": list(APS_QUERY_ACTIONS),
                "Resource": workspace_arn,
            },
            {
                "Sid": "ListPrometheusWorkspaces",
                "Effect": "Allow",
                "Action": "aps:ListWorkspaces",
                "Resource": "*",
            },
            {
                "Sid": "ReadCloudWatch",
                "Effect": "Allow",
                "Action": list(CLOUDWATCH_READ_ACTIONS),
                "Resource": "*",
            },
        ],
    }


def remote_write_url(prometheus_endpoint: str) -> str:
    """The workspace's remote-write URL from its endpoint (which ends in '/')."""
    return f"{prometheus_endpoint.rstrip('/')}/api/v1/remote_write"


class MetricsWorkspaces(pulumi.ComponentResource):
    """AMP + Grafana workspaces and the Datadog API key secret, each only when switched on."""

    remote_write_url: pulumi.Output[str] | None
    workspace_arn: pulumi.Output[str] | None
    grafana_endpoint: pulumi.Output[str] | None
    datadog_api_key_secret_arn: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: MetricsWorkspacesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:monitoring:MetricsWorkspaces", name, None, opts)
        self.remote_write_url = None
        self.workspace_arn = None
        self.grafana_endpoint = None
        self.datadog_api_key_secret_arn = None
        if args.config.prometheus_enabled:
            self._create_prometheus(name, args)
            self._create_grafana(name, args)
        if args.config.datadog_enabled:
            self._create_datadog_secret(name, args)
        self.register_outputs(
            {
                "remoteWriteUrl": self.remote_write_url,
                "workspaceArn": self.workspace_arn,
                "grafanaEndpoint": self.grafana_endpoint,
                "datadogApiKeySecretArn": self.datadog_api_key_secret_arn,
            }
        )

    def _create_prometheus(self, name: str, args: MetricsWorkspacesArgs) -> None:
        opts = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-prometheus-logs",
            # AMP delivers through vended logs, which must live under this prefix.
            name=f"/aws/vendedlogs/prometheus/{name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.data.logs_key_arn,
            tags=args.tags,
            opts=opts,
        )
        workspace = aws.amp.Workspace(
            f"{name}-prometheus",
            alias=f"{name}-metrics",
            logging_configuration=aws.amp.WorkspaceLoggingConfigurationArgs(
                log_group_arn=log_group.arn.apply(lambda arn: f"{arn}:*")
            ),
            tags=args.tags,
            opts=opts,
        )
        self.workspace_arn = workspace.arn
        self.remote_write_url = workspace.prometheus_endpoint.apply(remote_write_url)

    def _create_grafana(self, name: str, args: MetricsWorkspacesArgs) -> None:
        opts = pulumi.ResourceOptions(parent=self)
        context = AwsContext.lookup(self)
        role = aws.iam.Role(
            f"{name}-grafana-role",
            assume_role_policy=context.render(grafana_assume_role_policy),
            description="Amazon Managed Grafana: query the platform's Prometheus and CloudWatch",
            tags=args.tags,
            opts=opts,
        )
        assert self.workspace_arn is not None
        aws.iam.RolePolicy(
            f"{name}-grafana-read",
            role=role.id,
            policy=self.workspace_arn.apply(
                lambda arn: json.dumps(grafana_role_policy(workspace_arn=arn))
            ),
            opts=opts,
        )
        grafana = aws.grafana.Workspace(
            f"{name}-grafana",
            name=f"{name}-grafana",
            description=f"AgathaAI platform dashboards ({name})",
            account_access_type="CURRENT_ACCOUNT",
            authentication_providers=["AWS_SSO"],
            permission_type="SERVICE_MANAGED",
            role_arn=role.arn,
            data_sources=list(GRAFANA_DATA_SOURCES),
            tags=args.tags,
            opts=opts,
        )
        self.grafana_endpoint = grafana.endpoint

    def _create_datadog_secret(self, name: str, args: MetricsWorkspacesArgs) -> None:
        # Created empty, like the data layer's secrets: the value never passes through
        # Pulumi state. The ECS agent sidecar reads it at task start.
        secret = aws.secretsmanager.Secret(
            f"{name}-secret-datadog-api-key",
            name=f"{name}/observability/datadog-api-key",
            description=(
                "Datadog API key for the agent sidecar and Lambda extension. Set it with "
                "`aws secretsmanager put-secret-value --secret-id <this> --secret-string <key>`."
            ),
            kms_key_id=args.data.platform_key_arn,
            tags=args.tags | {"Name": f"{name}/observability/datadog-api-key"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.datadog_api_key_secret_arn = secret.arn
