"""Monitoring layer: CloudWatch alarms and dashboard, CloudTrail with CIS alarms, Datadog.

The alarm table is pure (``monitoring_alarms``); this component resolves its target keys
to the real resource names, routes each alarm to its severity's topic and builds the
optional back ends: ``monitoring_cloudtrail``, ``monitoring_datadog``. Prometheus and
Grafana live in ``monitoring_prometheus.MetricsWorkspaces``, built before Compute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.config.general import GeneralConfig
from components.config.monitoring import MonitoringConfig
from components.data_keys import AwsContext
from components.monitoring_alarms import (
    AlarmSpec,
    PlatformShape,
    cache_node_key,
    platform_alarm_specs,
)
from components.monitoring_cloudtrail import TrailInputs, create_cis_filters, create_trail
from components.monitoring_cloudtrail_rules import cis_alarm_specs
from components.monitoring_dashboard import dashboard_body


class MonitoredCompute(Protocol):
    """What monitoring reads from the compute layer."""

    @property
    def alb_arn_suffix(self) -> pulumi.Input[str]: ...
    @property
    def target_group_arn_suffix(self) -> pulumi.Input[str]: ...
    @property
    def cluster_name(self) -> pulumi.Input[str]: ...
    @property
    def gateway_service_name(self) -> pulumi.Input[str]: ...
    @property
    def worker_function_name(self) -> pulumi.Input[str]: ...


class MonitoredData(Protocol):
    """What monitoring reads from the data layer."""

    @property
    def queue_name(self) -> pulumi.Input[str]: ...
    @property
    def dlq_name(self) -> pulumi.Input[str]: ...
    @property
    def db_cluster_id(self) -> pulumi.Input[str]: ...
    @property
    def cache_replication_group_id(self) -> pulumi.Input[str]: ...
    @property
    def logs_key_arn(self) -> pulumi.Input[str]: ...


class AlertRouting(Protocol):
    """What monitoring reads from the alerting layer."""

    @property
    def topic_arns(self) -> dict[str, pulumi.Output[str]]: ...
    @property
    def datadog_handles(self) -> dict[str, str]: ...


@dataclass
class MonitoringArgs:
    """Inputs of the monitoring layer."""

    config: MonitoringConfig
    general: GeneralConfig
    network: Any
    data: MonitoredData
    compute: MonitoredCompute
    alerting: AlertRouting
    audit_log_retention_days: int
    shape: PlatformShape
    protect_audit_logs: bool = False
    tags: dict[str, str] = field(default_factory=dict)


def cache_member_id(replication_group_id: str, index: int) -> str:
    """Member cluster id of node ``index`` (1-based) in a cluster-mode-disabled group."""
    return f"{replication_group_id}-{index:03d}"


class Monitoring(pulumi.ComponentResource):
    """Alarms to severity topics, one dashboard, the audit trail and optional Datadog."""

    alarm_names: list[str]
    alarm_arns: list[pulumi.Output[str]]
    dashboard_name: pulumi.Output[str]
    trail_arn: pulumi.Output[str] | None
    trail_log_group_name: pulumi.Output[str] | None
    datadog_monitor_names: list[str]
    datadog_dashboard_url: pulumi.Output[str] | None
    _tags: dict[str, str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:monitoring:Monitoring", name, None, opts)
        config = args.config
        self._tags = dict(args.tags)
        context = AwsContext.lookup(self)
        targets = self._targets(args)
        specs = platform_alarm_specs(config, args.shape)
        self.trail_arn = None
        self.trail_log_group_name = None
        if config.cloudtrail_enabled:
            specs += self._create_cloudtrail(name, args, context)
        alarms = [self._create_alarm(name, s, targets, args.alerting.topic_arns) for s in specs]
        self.alarm_names = [f"{name}-{s.name}" for s in specs]
        self.alarm_arns = [a.arn for a in alarms]
        self.dashboard_name = self._create_dashboard(name, specs, targets, context)
        self.datadog_monitor_names = []
        self.datadog_dashboard_url = None
        if config.datadog_enabled:
            self._create_datadog(name, args, targets, context)
        self.register_outputs(
            {
                "alarmNames": self.alarm_names,
                "dashboardName": self.dashboard_name,
                "trailArn": self.trail_arn,
                "datadogDashboardUrl": self.datadog_dashboard_url,
            }
        )

    @staticmethod
    def _targets(args: MonitoringArgs) -> dict[str, pulumi.Input[str]]:
        compute, data = args.compute, args.data
        targets: dict[str, pulumi.Input[str]] = {
            "alb": compute.alb_arn_suffix,
            "target_group": compute.target_group_arn_suffix,
            "cluster": compute.cluster_name,
            "service": compute.gateway_service_name,
            "function": compute.worker_function_name,
            "queue": data.queue_name,
            "dlq": data.dlq_name,
            "db_cluster": data.db_cluster_id,
        }
        group = pulumi.Output.from_input(data.cache_replication_group_id)
        for index in range(1, args.shape.cache_node_count + 1):
            targets[cache_node_key(index)] = group.apply(partial(cache_member_id, index=index))
        return targets

    def _create_cloudtrail(
        self, name: str, args: MonitoringArgs, context: AwsContext
    ) -> list[AlarmSpec]:
        trail = create_trail(
            TrailInputs(
                name=name,
                context=context,
                logs_key_arn=args.data.logs_key_arn,
                log_retention_days=args.audit_log_retention_days,
                expiration_days=args.config.cloudtrail_expiration_days,
                protect=args.protect_audit_logs,
                tags=args.tags,
            ),
            parent=self,
        )
        self.trail_arn = trail.trail.arn
        self.trail_log_group_name = trail.log_group.name
        if args.config.cis_alarms_enabled:
            create_cis_filters(name, trail.log_group, parent=self)
        return cis_alarm_specs(name, args.config)

    def _create_alarm(
        self,
        name: str,
        spec: AlarmSpec,
        targets: dict[str, pulumi.Input[str]],
        topic_arns: dict[str, pulumi.Output[str]],
    ) -> aws.cloudwatch.MetricAlarm:
        # Recovery goes to the same topic, so whoever was paged also learns it cleared.
        actions = [topic_arns[spec.severity]]
        shape: dict[str, Any] = {}
        if spec.expression is not None:
            shape["metric_queries"] = _metric_queries(spec, targets)
        else:
            shape.update(
                namespace=spec.namespace,
                metric_name=spec.metric,
                dimensions={dim: targets[key] for dim, key in spec.dimensions} or None,
                period=spec.period_seconds,
                statistic=spec.statistic,
                extended_statistic=spec.extended_statistic,
            )
        return aws.cloudwatch.MetricAlarm(
            f"{name}-alarm-{spec.name}",
            name=f"{name}-{spec.name}",
            alarm_description=spec.description,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.periods,
            datapoints_to_alarm=spec.datapoints,
            treat_missing_data=spec.treat_missing_data,
            alarm_actions=actions,
            ok_actions=actions,
            tags={**self._tags, "severity": spec.severity, "runbook": spec.runbook},
            opts=pulumi.ResourceOptions(parent=self),
            **shape,
        )

    def _create_dashboard(
        self,
        name: str,
        specs: list[AlarmSpec],
        targets: dict[str, pulumi.Input[str]],
        context: AwsContext,
    ) -> pulumi.Output[str]:
        body = pulumi.Output.all(
            pulumi.Output.all(**targets), context.region, pulumi.Output.all(*self.alarm_arns)
        ).apply(
            lambda values: json.dumps(
                dashboard_body(
                    title=f"AgathaAI platform ({name})",
                    specs=specs,
                    targets=values[0],
                    region=values[1],
                    alarm_arns=list(values[2]),
                )
            )
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{name}-platform",
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return dashboard.dashboard_name

    def _create_datadog(
        self,
        name: str,
        args: MonitoringArgs,
        targets: dict[str, pulumi.Input[str]],
        context: AwsContext,
    ) -> None:
        # Imported here: the module pulls in pulumi_datadog, which costs seconds to load.
        from components.monitoring_datadog import DatadogInputs, create_datadog

        created = create_datadog(
            DatadogInputs(
                name=name,
                config=args.config,
                account_id=context.account_id,
                region=context.region,
                targets={k: targets[k] for k in ("alb", "queue", "dlq", "function")},
                handles=args.alerting.datadog_handles,
                tags=args.tags,
            ),
            parent=self,
        )
        self.datadog_monitor_names = created.monitor_names
        self.datadog_dashboard_url = created.dashboard_url


def _metric_queries(
    spec: AlarmSpec, targets: dict[str, pulumi.Input[str]]
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="e1", expression=spec.expression, label=spec.name, return_data=True
        )
    ]
    for ref in spec.metrics:
        queries.append(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=ref.id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=ref.namespace,
                    metric_name=ref.metric,
                    dimensions={dim: targets[key] for dim, key in ref.dimensions},
                    period=spec.period_seconds,
                    stat=ref.stat,
                ),
            )
        )
    return queries
