"""The pure alarm table: thresholds from config, severities, runbooks and metric shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config.monitoring import MonitoringConfig
from components.monitoring_alarms import (
    MIB,
    SEVERITIES,
    AlarmSpec,
    PlatformShape,
    cache_alarm_specs,
    platform_alarm_specs,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV = PlatformShape(
    gateway_min_count=1, worker_timeout_seconds=120, db_instance_count=1, cache_node_count=1
)
PROD = PlatformShape(
    gateway_min_count=3, worker_timeout_seconds=120, db_instance_count=3, cache_node_count=3
)


def _by_name(specs: list[AlarmSpec]) -> dict[str, AlarmSpec]:
    return {s.name: s for s in specs}


def test_alarm_table_covers_gateway_worker_queue_database_and_cache() -> None:
    names = set(_by_name(platform_alarm_specs(MonitoringConfig(), PROD)))
    assert {
        "alb-5xx-rate", "alb-p99-latency", "alb-unhealthy-hosts", "ecs-cpu", "ecs-memory",
        "ecs-running-tasks", "worker-errors", "worker-throttles",
        "worker-duration-near-timeout", "queue-age", "dlq-depth", "db-cpu",
        "db-freeable-memory", "db-connections", "db-replica-lag", "cache-engine-cpu",
        "cache-memory", "cache-evictions", "cache-replication-lag",
    } == names  # fmt: skip


def test_alarm_names_are_unique() -> None:
    specs = platform_alarm_specs(MonitoringConfig(), PROD)
    assert len({s.name for s in specs}) == len(specs)


def test_dlq_alarm_fires_on_a_single_message() -> None:
    dlq = _by_name(platform_alarm_specs(MonitoringConfig(), DEV))["dlq-depth"]
    assert dlq.threshold == 0
    assert dlq.comparison == "GreaterThanThreshold"
    assert dlq.metric == "ApproximateNumberOfMessagesVisible"
    assert dlq.dimensions == (("QueueName", "dlq"),)


def test_thresholds_come_from_config() -> None:
    config = MonitoringConfig.model_validate(
        {"queueAgeSeconds": 120, "albP99LatencySeconds": 0.75, "dbFreeableMemoryMb": 64}
    )
    specs = _by_name(platform_alarm_specs(config, DEV))
    assert specs["queue-age"].threshold == 120
    assert specs["alb-p99-latency"].threshold == 0.75
    assert specs["db-freeable-memory"].threshold == 64 * MIB


def test_worker_duration_alarm_is_a_share_of_the_timeout_in_ms() -> None:
    config = MonitoringConfig.model_validate({"workerDurationTimeoutPercent": 80})
    shape = PlatformShape(
        gateway_min_count=1, worker_timeout_seconds=90, db_instance_count=1, cache_node_count=1
    )
    duration = _by_name(platform_alarm_specs(config, shape))["worker-duration-near-timeout"]
    assert duration.threshold == 72_000
    assert duration.extended_statistic == "p99"
    assert duration.comparison == "GreaterThanOrEqualToThreshold"


def test_running_task_alarm_uses_the_minimum_count_and_treats_silence_as_an_outage() -> None:
    tasks = _by_name(platform_alarm_specs(MonitoringConfig(), PROD))["ecs-running-tasks"]
    assert tasks.threshold == 3
    assert tasks.comparison == "LessThanThreshold"
    assert tasks.namespace == "ECS/ContainerInsights"
    assert tasks.treat_missing_data == "breaching"


def test_alb_error_rate_is_metric_math_over_5xx_and_requests() -> None:
    rate = _by_name(platform_alarm_specs(MonitoringConfig(), DEV))["alb-5xx-rate"]
    metrics = {m.id: m.metric for m in rate.metrics}
    assert metrics == {"errors": "HTTPCode_Target_5XX_Count", "requests": "RequestCount"}
    assert rate.expression is not None
    assert "errors" in rate.expression and "/ requests" in rate.expression
    assert rate.severity == "critical"


def test_replica_alarms_exist_only_with_replicas() -> None:
    dev = set(_by_name(platform_alarm_specs(MonitoringConfig(), DEV)))
    assert "db-replica-lag" not in dev
    assert "cache-replication-lag" not in dev


def test_cache_alarms_take_the_worst_node_by_cache_cluster_id() -> None:
    memory = _by_name(cache_alarm_specs(MonitoringConfig(), PROD))["cache-memory"]
    assert memory.expression == "MAX([n1, n2, n3])"
    assert {m.dimensions for m in memory.metrics} == {
        (("CacheClusterId", f"cache_node_{i}"),) for i in (1, 2, 3)
    }


def test_every_alarm_has_a_known_severity_and_an_existing_runbook() -> None:
    for spec in platform_alarm_specs(MonitoringConfig(), PROD):
        assert spec.severity in SEVERITIES
        assert (REPO_ROOT / spec.runbook_path).is_file(), spec.runbook_path
        assert spec.description.startswith(f"severity={spec.severity} runbook={spec.runbook_path} ")
        assert len(spec.description) <= 1024


def test_a_spec_with_both_a_metric_and_an_expression_is_refused() -> None:
    with pytest.raises(ValueError, match="either metric"):
        AlarmSpec(
            name="bad",
            runbook="cache",
            severity="warning",
            summary="x",
            threshold=1,
            comparison="GreaterThanThreshold",
            metric="CPUUtilization",
            statistic="Average",
            expression="m1",
        )


def test_an_unknown_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="severity"):
        AlarmSpec(
            name="bad",
            runbook="cache",
            severity="page-everyone",
            summary="x",
            threshold=1,
            comparison="GreaterThanThreshold",
            metric="CPUUtilization",
            statistic="Average",
        )
