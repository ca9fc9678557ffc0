"""Datadog: AWS integration with its IAM role, monitors, SLOs and a service dashboard.

``pulumi_datadog`` loads every module eagerly (~4-5 s), so it is imported only here,
inside ``create_datadog``, which the component calls only when ``datadogEnabled``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import monitoring_datadog_specs as specs
from components.config.monitoring import MonitoringConfig


@dataclass(frozen=True)
class DatadogInputs:
    """What the Datadog resources need."""

    name: str
    config: MonitoringConfig
    account_id: pulumi.Input[str]
    region: pulumi.Input[str]
    # alb (ARN suffix), queue, dlq, function -> resource name
    targets: dict[str, pulumi.Input[str]]
    handles: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatadogResources:
    """Ids of what was created, for the component's outputs."""

    monitor_names: list[str]
    slo_ids: list[pulumi.Output[str]]
    dashboard_url: pulumi.Output[str]


def create_datadog(inputs: DatadogInputs, parent: pulumi.Resource) -> DatadogResources:
    """Integration, monitors, SLOs and dashboard."""
    specs.check_handles(inputs.handles)
    _create_integration(inputs, parent)
    targets = pulumi.Output.all(**inputs.targets)
    monitor_names = _create_monitors(inputs, targets, parent)
    slo_ids = _create_slos(inputs, targets, parent)
    dashboard_url = _create_dashboard(inputs, targets, slo_ids, parent)
    return DatadogResources(
        monitor_names=monitor_names, slo_ids=slo_ids, dashboard_url=dashboard_url
    )


def _create_integration(inputs: DatadogInputs, parent: pulumi.Resource) -> None:
    import pulumi_datadog as datadog

    name = inputs.name
    opts = pulumi.ResourceOptions(parent=parent)
    external_id = datadog.aws.IntegrationExternalId(f"{name}-datadog-external-id", opts=opts)
    role_name = f"{name}-datadog-integration"
    role = aws.iam.Role(
        role_name,
        name=role_name,
        assume_role_policy=external_id.id.apply(
            lambda value: json.dumps(specs.integration_assume_role_policy(external_id=value))
        ),
        description="Datadog AWS integration: read-only metrics, tags and traces",
        tags=inputs.tags,
        opts=opts,
    )
    policy = aws.iam.RolePolicy(
        f"{name}-datadog-integration-read",
        role=role.id,
        policy=json.dumps(specs.integration_role_policy()),
        opts=opts,
    )
    account = datadog.aws
    account.IntegrationAccount(
        f"{name}-datadog-aws",
        aws_account_id=inputs.account_id,
        aws_partition="aws",
        account_tags=[f"{k}:{v}" for k, v in sorted(inputs.tags.items())],
        auth_config=account.IntegrationAccountAuthConfigArgs(
            aws_auth_config_role=account.IntegrationAccountAuthConfigAwsAuthConfigRoleArgs(
                role_name=role_name, external_id=external_id.id
            )
        ),
        aws_regions=account.IntegrationAccountAwsRegionsArgs(
            include_onlies=pulumi.Output.from_input(inputs.region).apply(lambda r: [r])
        ),
        metrics_config=account.IntegrationAccountMetricsConfigArgs(
            namespace_filters=account.IntegrationAccountMetricsConfigNamespaceFiltersArgs(
                include_onlies=list(specs.DATADOG_NAMESPACES)
            )
        ),
        logs_config=account.IntegrationAccountLogsConfigArgs(
            lambda_forwarder=account.IntegrationAccountLogsConfigLambdaForwarderArgs()
        ),
        resources_config=account.IntegrationAccountResourcesConfigArgs(
            cloud_security_posture_management_collection=False, extended_collection=True
        ),
        traces_config=account.IntegrationAccountTracesConfigArgs(
            xray_services=account.IntegrationAccountTracesConfigXrayServicesArgs()
        ),
        # Datadog assumes the role while creating the integration: it must be usable first.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]),
    )


def _create_monitors(
    inputs: DatadogInputs, targets: pulumi.Output[dict[str, str]], parent: pulumi.Resource
) -> list[str]:
    import pulumi_datadog as datadog

    names: list[str] = []
    for spec in specs.monitor_specs(inputs.config):
        title = f"[{inputs.name}] {spec.title}"
        datadog.Monitor(
            f"{inputs.name}-dd-{spec.key}",
            name=title,
            type="query alert",
            query=targets.apply(spec.query),
            message=spec.message(inputs.handles.get(spec.severity, "")),
            priority=specs.PRIORITY[spec.severity],
            tags=specs.monitor_tags(inputs.tags, spec),
            monitor_thresholds=datadog.MonitorMonitorThresholdsArgs(
                critical=str(spec.critical),
                warning=None if spec.warning is None else str(spec.warning),
            ),
            evaluation_delay=specs.AWS_CRAWLER_EVALUATION_DELAY_SECONDS,
            # CloudWatch-crawled series arrive in bursts; partial windows give false alerts.
            require_full_window=False,
            notify_no_data=False,
            include_tags=True,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        names.append(title)
    return names


def _create_slos(
    inputs: DatadogInputs, targets: pulumi.Output[dict[str, str]], parent: pulumi.Resource
) -> list[pulumi.Output[str]]:
    import pulumi_datadog as datadog

    config, name = inputs.config, inputs.name
    opts = pulumi.ResourceOptions(parent=parent)
    tags = [f"{k}:{v}" for k, v in sorted(inputs.tags.items())]

    def thresholds(target: float) -> list[datadog.ServiceLevelObjectiveThresholdArgs]:
        return [
            datadog.ServiceLevelObjectiveThresholdArgs(timeframe=t, target=target)
            for t in specs.SLO_TIMEFRAMES
        ]

    good_total = targets.apply(lambda t: specs.availability_queries(t["alb"]))
    availability = datadog.ServiceLevelObjective(
        f"{name}-slo-availability",
        name=f"[{name}] Gateway availability",
        type="metric",
        description="Share of gateway requests answered without a target 5xx.",
        query=datadog.ServiceLevelObjectiveQueryArgs(
            numerator=good_total.apply(lambda q: q[0]), denominator=good_total.apply(lambda q: q[1])
        ),
        thresholds=thresholds(config.slo_availability_target),
        tags=tags,
        opts=opts,
    )
    slice_spec = datadog.ServiceLevelObjectiveSliSpecificationTimeSliceArgs
    query = datadog.ServiceLevelObjectiveSliSpecificationTimeSliceQueryQueryMetricQueryArgs
    latency = datadog.ServiceLevelObjective(
        f"{name}-slo-latency",
        name=f"[{name}] Gateway p99 latency",
        type="time_slice",
        description=f"5-minute slices with p99 at or under {config.alb_p99_latency_seconds}s.",
        sli_specification=datadog.ServiceLevelObjectiveSliSpecificationArgs(
            time_slice=slice_spec(
                comparator="<=",
                threshold=config.alb_p99_latency_seconds,
                query_interval_seconds=300,
                query=datadog.ServiceLevelObjectiveSliSpecificationTimeSliceQueryArgs(
                    formula=datadog.ServiceLevelObjectiveSliSpecificationTimeSliceQueryFormulaArgs(
                        formula_expression="p99"
                    ),
                    queries=[
                        datadog.ServiceLevelObjectiveSliSpecificationTimeSliceQueryQueryArgs(
                            metric_query=query(
                                name="p99",
                                query=targets.apply(lambda t: specs.latency_query(t["alb"])),
                            )
                        )
                    ],
                ),
            )
        ),
        thresholds=thresholds(config.slo_latency_target),
        tags=tags,
        opts=opts,
    )
    return [availability.id, latency.id]


def _create_dashboard(
    inputs: DatadogInputs,
    targets: pulumi.Output[dict[str, str]],
    slo_ids: list[pulumi.Output[str]],
    parent: pulumi.Resource,
) -> pulumi.Output[str]:
    import pulumi_datadog as datadog

    title = f"AgathaAI platform ({inputs.name})"
    body = pulumi.Output.all(targets, *slo_ids).apply(
        lambda values: json.dumps(
            specs.service_dashboard(title=title, targets=values[0], slo_ids=list(values[1:]))
        )
    )
    dashboard = datadog.DashboardJson(
        f"{inputs.name}-dd-dashboard", dashboard=body, opts=pulumi.ResourceOptions(parent=parent)
    )
    return dashboard.url
