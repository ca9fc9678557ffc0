"""Monitoring in the whole program, for both stacks, and its switches in stack config."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agatha.plan.graph import ResourceGraph
from agatha.plan.mock_runtime import evaluate_stack

REPO_ROOT = Path(__file__).resolve().parents[2]
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
TRAIL = "aws:cloudtrail/trail:Trail"
AMP = "aws:amp/workspace:Workspace"
RUNBOOK = re.compile(r"runbook=(\S+)")


def _topic_by_severity(graph: ResourceGraph) -> dict[str, str]:
    topics = graph.of_type(TOPIC)
    return {
        t.inputs["tags"]["severity"]: t.outputs["arn"]
        for t in topics
        if "severity" in t.inputs["tags"]
    }


def _containers(graph: ResourceGraph) -> list[str]:
    (task,) = graph.of_type("aws:ecs/taskDefinition:TaskDefinition")
    return [c["name"] for c in json.loads(task.inputs["containerDefinitions"])]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_alarm_routes_to_its_severity_topic_and_names_an_existing_runbook(
    stack: str, request: pytest.FixtureRequest
) -> None:
    graph: ResourceGraph = request.getfixturevalue(f"{stack}_graph")
    topics = _topic_by_severity(graph)
    alarms = graph.of_type(ALARM)
    assert len(alarms) >= 25
    for alarm in alarms:
        severity = alarm.inputs["tags"]["severity"]
        assert alarm.inputs["alarmActions"] == [topics[severity]], alarm.name
        assert alarm.inputs["okActions"] == [topics[severity]], alarm.name
        runbook = RUNBOOK.search(alarm.inputs["alarmDescription"])
        assert runbook and (REPO_ROOT / runbook.group(1)).is_file(), alarm.name
        assert alarm.inputs["name"].startswith(f"agatha-{stack}-")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_dlq_alarm_threshold_is_zero(stack: str, request: pytest.FixtureRequest) -> None:
    graph: ResourceGraph = request.getfixturevalue(f"{stack}_graph")
    dlq = graph.named(f"agatha-{stack}-alarm-dlq-depth").inputs
    assert dlq["threshold"] == 0
    assert dlq["comparisonOperator"] == "GreaterThanThreshold"
    assert dlq["dimensions"] == {"QueueName": f"agatha-{stack}-jobs-dlq"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_alarms_cover_gateway_worker_queue_database_and_cache(
    stack: str, request: pytest.FixtureRequest
) -> None:
    graph: ResourceGraph = request.getfixturevalue(f"{stack}_graph")
    names = {a.inputs["name"].removeprefix(f"agatha-{stack}-") for a in graph.of_type(ALARM)}
    assert {"alb-5xx-rate", "ecs-running-tasks", "worker-errors", "queue-age", "dlq-depth",
            "db-cpu", "cache-memory"} <= names  # fmt: skip


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_trail_is_multi_region_validated_kms_encrypted_with_cis_alarms(
    stack: str, request: pytest.FixtureRequest
) -> None:
    graph: ResourceGraph = request.getfixturevalue(f"{stack}_graph")
    (trail,) = graph.of_type(TRAIL)
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert trail.inputs["cloudWatchLogsGroupArn"].endswith(f"/aws/cloudtrail/agatha-{stack}:*")
    filters = graph.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert len(filters) == 9
    group = graph.named(f"agatha-{stack}-trail-logs").inputs
    assert group["retentionInDays"] >= 365
    data_logs_key = next(
        k
        for k in graph.of_type("aws:kms/key:Key")
        if k.name == f"agatha-{stack}-logs-key" and "agatha:data:Data" in (k.parent or "")
    )
    assert group["kmsKeyId"] == data_logs_key.outputs["arn"]


def test_dev_has_no_datadog_and_no_prometheus(dev_graph: ResourceGraph) -> None:
    assert not [r for r in dev_graph if r.type.startswith("datadog:")]
    assert not dev_graph.of_type(AMP)
    assert not dev_graph.of_type("aws:grafana/workspace:Workspace")
    assert _containers(dev_graph) == ["gateway"]


def test_prod_has_datadog_with_delay_handles_and_priority(prod_graph: ResourceGraph) -> None:
    monitors = prod_graph.of_type("datadog:index/monitor:Monitor")
    assert len(monitors) == 5
    for monitor in monitors:
        assert monitor.inputs["evaluationDelay"] >= 900
        assert re.search(r"Notify: @\S+", monitor.inputs["message"]), monitor.name
        assert monitor.inputs["priority"]
        assert any(t.startswith("environment:") for t in monitor.inputs["tags"])
    assert len(prod_graph.of_type("datadog:index/serviceLevelObjective:ServiceLevelObjective")) == 2
    assert prod_graph.of_type("datadog:index/dashboardJson:DashboardJson")
    assert prod_graph.of_type("datadog:aws/integrationAccount:IntegrationAccount")
    assert "datadog-agent" in _containers(prod_graph)


def test_prod_has_amp_grafana_and_the_collector_sidecar(prod_graph: ResourceGraph) -> None:
    (amp,) = prod_graph.of_type(AMP)
    assert prod_graph.of_type("aws:grafana/workspace:Workspace")
    assert "otel-collector" in _containers(prod_graph)
    (task,) = prod_graph.of_type("aws:ecs/taskDefinition:TaskDefinition")
    endpoint = amp.outputs["prometheusEndpoint"].rstrip("/")
    assert f"{endpoint}/api/v1/remote_write" in task.inputs["containerDefinitions"]


def test_turning_datadog_off_in_config_removes_it_without_code_changes() -> None:
    graph = evaluate_stack("prod", config_overrides={"agatha:datadogEnabled": "false"})
    assert not [r for r in graph if r.type.startswith("datadog:")]
    assert "datadog-agent" not in _containers(graph)
    assert not [s for s in graph.of_type("aws:secretsmanager/secret:Secret") if "datadog" in s.name]


def test_turning_prometheus_on_and_cis_off_in_dev_needs_no_code_changes() -> None:
    graph = evaluate_stack(
        "dev",
        config_overrides={"agatha:prometheusEnabled": "true", "agatha:cisAlarmsEnabled": "false"},
    )
    assert graph.of_type(AMP)
    assert "otel-collector" in _containers(graph)
    assert not graph.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert graph.of_type(TRAIL)
