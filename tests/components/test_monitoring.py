"""The Monitoring component and MetricsWorkspaces under the mock runtime, with stand-ins."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agatha.plan.graph import ResourceGraph
from agatha.plan.mock_runtime import evaluate_program
from components.config.general import GeneralConfig
from components.config.monitoring import MonitoringConfig
from components.monitoring import Monitoring, MonitoringArgs, cache_member_id
from components.monitoring_alarms import PlatformShape
from components.monitoring_prometheus import MetricsWorkspaces, MetricsWorkspacesArgs

REPO_ROOT = Path(__file__).resolve().parents[2]
NAME = "agatha-test"
ACCOUNT = "123456789012"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPICS = {
    s: f"arn:aws:sns:us-east-1:{ACCOUNT}:{NAME}-alerts-{s}" for s in ("critical", "warning", "info")
}
HANDLES = {"critical": "@pagerduty-test", "warning": "@slack-test", "info": "@ops@test.ai"}
SHAPE = PlatformShape(
    gateway_min_count=2, worker_timeout_seconds=60, db_instance_count=2, cache_node_count=2
)
RUNBOOK = re.compile(r"runbook=(\S+)")


def _stand_ins() -> dict[str, Any]:
    return {
        "network": SimpleNamespace(vpc_id="vpc-1"),
        "data": SimpleNamespace(
            queue_name=f"{NAME}-jobs",
            dlq_name=f"{NAME}-jobs-dlq",
            db_cluster_id=f"{NAME}-db",
            cache_replication_group_id=f"{NAME}-cache",
            logs_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/logs",
            platform_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/platform",
        ),
        "compute": SimpleNamespace(
            alb_arn_suffix=f"app/{NAME}-alb/abc",
            target_group_arn_suffix=f"targetgroup/{NAME}-tg/def",
            cluster_name=f"{NAME}-cluster",
            gateway_service_name=f"{NAME}-gateway",
            worker_function_name=f"{NAME}-worker",
        ),
        "alerting": SimpleNamespace(topic_arns=TOPICS, datadog_handles=HANDLES),
    }


def _plan(config: MonitoringConfig) -> ResourceGraph:
    def program() -> None:
        Monitoring(
            NAME,
            MonitoringArgs(
                config=config,
                general=GeneralConfig.model_validate({"environment": "dev"}),
                audit_log_retention_days=365,
                shape=SHAPE,
                tags={"layer": "monitoring"},
                **_stand_ins(),
            ),
        )

    return evaluate_program(program)


@pytest.fixture(scope="module")
def everything() -> ResourceGraph:
    return _plan(MonitoringConfig.model_validate({"datadogEnabled": True}))


@pytest.fixture(scope="module")
def bare() -> ResourceGraph:
    return _plan(
        MonitoringConfig.model_validate({"cloudtrailEnabled": False, "cisAlarmsEnabled": False})
    )


def test_every_alarm_notifies_its_severity_topic_when_firing_and_clearing(
    everything: ResourceGraph,
) -> None:
    alarms = everything.of_type(ALARM)
    assert len(alarms) > 20
    for alarm in alarms:
        severity = alarm.inputs["tags"]["severity"]
        assert alarm.inputs["alarmActions"] == [TOPICS[severity]], alarm.name
        assert alarm.inputs["okActions"] == [TOPICS[severity]], alarm.name
        assert alarm.inputs["alarmDescription"].startswith(f"severity={severity} ")


def test_every_alarm_names_a_runbook_that_exists(everything: ResourceGraph) -> None:
    for alarm in everything.of_type(ALARM):
        match = RUNBOOK.search(alarm.inputs["alarmDescription"])
        assert match, alarm.name
        assert (REPO_ROOT / match.group(1)).is_file(), match.group(1)


def test_alarm_dimensions_are_the_real_resource_names(everything: ResourceGraph) -> None:
    alarms = {a.inputs["name"]: a.inputs for a in everything.of_type(ALARM)}
    assert alarms[f"{NAME}-dlq-depth"]["dimensions"] == {"QueueName": f"{NAME}-jobs-dlq"}
    assert alarms[f"{NAME}-dlq-depth"]["threshold"] == 0
    assert alarms[f"{NAME}-ecs-cpu"]["dimensions"] == {
        "ClusterName": f"{NAME}-cluster",
        "ServiceName": f"{NAME}-gateway",
    }
    assert alarms[f"{NAME}-alb-unhealthy-hosts"]["dimensions"] == {
        "TargetGroup": f"targetgroup/{NAME}-tg/def",
        "LoadBalancer": f"app/{NAME}-alb/abc",
    }
    assert alarms[f"{NAME}-worker-duration-near-timeout"]["extendedStatistic"] == "p99"
    nodes = [q["metric"]["dimensions"] for q in alarms[f"{NAME}-cache-memory"]["metricQueries"][1:]]
    assert nodes == [
        {"CacheClusterId": f"{NAME}-cache-001"},
        {"CacheClusterId": f"{NAME}-cache-002"},
    ]


def test_cache_member_ids_follow_elasticache_naming() -> None:
    assert cache_member_id("agatha-prod-cache", 3) == "agatha-prod-cache-003"


def test_dashboard_graphs_every_alarm_with_real_names(everything: ResourceGraph) -> None:
    dashboard = everything.named(f"{NAME}-dashboard")
    assert dashboard.inputs["dashboardName"] == f"{NAME}-platform"
    body = json.loads(dashboard.inputs["dashboardBody"])
    graphs = [w for w in body["widgets"] if w["type"] == "metric"]
    assert len(graphs) == len(everything.of_type(ALARM))
    status = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert len(status["properties"]["alarms"]) == len(everything.of_type(ALARM))
    assert f"{NAME}-jobs-dlq" in dashboard.inputs["dashboardBody"]


def test_disabled_trail_means_no_trail_no_cis_and_no_datadog(bare: ResourceGraph) -> None:
    types = {r.type for r in bare}
    assert "aws:cloudtrail/trail:Trail" not in types
    assert "aws:cloudwatch/logMetricFilter:LogMetricFilter" not in types
    assert not any(t.startswith("datadog:") for t in types)
    assert not any(a.name.startswith(f"{NAME}-alarm-cis-") for a in bare.of_type(ALARM))


def test_datadog_monitors_delay_evaluation_and_notify_the_severity_handle(
    everything: ResourceGraph,
) -> None:
    monitors = everything.of_type("datadog:index/monitor:Monitor")
    assert len(monitors) == 5
    for monitor in monitors:
        inputs = monitor.inputs
        severity = next(t.split(":", 1)[1] for t in inputs["tags"] if t.startswith("severity:"))
        assert inputs["evaluationDelay"] >= 900
        assert HANDLES[severity] in inputs["message"]
        assert inputs["priority"] in {"1", "3", "4"}
        path = re.search(r"Runbook: (\S+)", inputs["message"])
        assert path and (REPO_ROOT / path.group(1)).is_file()
        assert "layer:monitoring" in inputs["tags"]


def test_datadog_integration_role_trusts_datadog_with_the_external_id(
    everything: ResourceGraph,
) -> None:
    external = everything.named(f"{NAME}-datadog-external-id")
    role = everything.named(f"{NAME}-datadog-integration")
    statement = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::464622532012:root"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": external.id}}
    account = everything.named(f"{NAME}-datadog-aws").inputs
    assert account["authConfig"]["awsAuthConfigRole"] == {
        "roleName": f"{NAME}-datadog-integration",
        "externalId": external.id,
    }
    assert account["awsAccountId"] == ACCOUNT


def test_datadog_slos_use_the_config_targets(everything: ResourceGraph) -> None:
    config = MonitoringConfig()
    availability = everything.named(f"{NAME}-slo-availability").inputs
    latency = everything.named(f"{NAME}-slo-latency").inputs
    assert {t["target"] for t in availability["thresholds"]} == {config.slo_availability_target}
    assert {t["target"] for t in latency["thresholds"]} == {config.slo_latency_target}
    assert latency["sliSpecification"]["timeSlice"]["threshold"] == config.alb_p99_latency_seconds
    assert "request_count" in availability["query"]["denominator"]


def _workspaces(config: MonitoringConfig) -> ResourceGraph:
    def program() -> None:
        MetricsWorkspaces(
            NAME,
            MetricsWorkspacesArgs(
                config=config, data=_stand_ins()["data"], log_retention_days=90, tags={"a": "b"}
            ),
        )

    return evaluate_program(program)


def test_workspaces_create_amp_grafana_and_the_datadog_secret_when_enabled() -> None:
    graph = _workspaces(
        MonitoringConfig.model_validate({"prometheusEnabled": True, "datadogEnabled": True})
    )
    amp = graph.named(f"{NAME}-prometheus")
    assert amp.inputs["loggingConfiguration"]["logGroupArn"].endswith(
        f"log-group:/aws/vendedlogs/prometheus/{NAME}:*"
    )
    grafana = graph.named(f"{NAME}-grafana").inputs
    assert grafana["authenticationProviders"] == ["AWS_SSO"]
    assert grafana["permissionType"] == "SERVICE_MANAGED"
    assert set(grafana["dataSources"]) == {"PROMETHEUS", "CLOUDWATCH"}
    policy = json.loads(graph.named(f"{NAME}-grafana-read").inputs["policy"])
    query = next(s for s in policy["Statement"] if s["Sid"] == "QueryPlatformPrometheus")
    assert query["Resource"] == amp.outputs["arn"]
    secret = graph.named(f"{NAME}-secret-datadog-api-key").inputs
    assert secret["kmsKeyId"].endswith(":key/platform")
    assert not graph.of_type("aws:secretsmanager/secretVersion:SecretVersion")


def test_workspaces_create_nothing_when_disabled() -> None:
    graph = _workspaces(MonitoringConfig())
    assert [r.type for r in graph] == ["agatha:monitoring:MetricsWorkspaces"]
