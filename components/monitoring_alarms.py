"""The platform's CloudWatch alarm table: pure data, built from config (no Pulumi).

Dimension values are *target keys* ("alb", "queue", "cache_node_2"...) that the component
resolves to the real resource names; this keeps the table testable without the runtime.
"""

from __future__ import annotations

from components.config.monitoring import MonitoringConfig
from components.monitoring_alarm_spec import (
    MIB,
    RUNBOOK_DIR,
    SEVERITIES,
    AlarmSpec,
    Dimensions,
    MetricRef,
    PlatformShape,
)

__all__ = [
    "MIB",
    "RUNBOOK_DIR",
    "SEVERITIES",
    "AlarmSpec",
    "MetricRef",
    "PlatformShape",
    "cache_alarm_specs",
    "cache_node_key",
    "platform_alarm_specs",
]

# The 5xx rate is only meaningful with some traffic: one failed health probe among three
# requests at 3 a.m. is not an outage.
ALB_MIN_REQUESTS_PER_MINUTE = 10


def platform_alarm_specs(config: MonitoringConfig, shape: PlatformShape) -> list[AlarmSpec]:
    """Every platform alarm (gateway, worker, queue, database, cache) for this stack."""
    return [
        *gateway_alarm_specs(config, shape),
        *worker_alarm_specs(config, shape),
        *queue_alarm_specs(config),
        *database_alarm_specs(config, shape),
        *cache_alarm_specs(config, shape),
    ]


def gateway_alarm_specs(config: MonitoringConfig, shape: PlatformShape) -> list[AlarmSpec]:
    """ALB error rate, latency and target health; ECS CPU, memory and running tasks."""
    alb: Dimensions = (("LoadBalancer", "alb"),)
    target: Dimensions = (("TargetGroup", "target_group"), ("LoadBalancer", "alb"))
    service: Dimensions = (("ClusterName", "cluster"), ("ServiceName", "service"))
    elb = "AWS/ApplicationELB"
    return [
        AlarmSpec(
            name="alb-5xx-rate",
            runbook="gateway-errors",
            severity="critical",
            summary=f"Gateway target 5xx above {config.alb_5xx_rate_percent}% of requests.",
            threshold=config.alb_5xx_rate_percent,
            comparison="GreaterThanThreshold",
            periods=5,
            datapoints=3,
            expression=(
                f"IF(requests >= {ALB_MIN_REQUESTS_PER_MINUTE}, "
                "100 * FILL(errors, 0) / requests, 0)"
            ),
            metrics=(
                MetricRef("errors", elb, "HTTPCode_Target_5XX_Count", alb, "Sum"),
                MetricRef("requests", elb, "RequestCount", alb, "Sum"),
            ),
        ),
        AlarmSpec(
            name="alb-p99-latency",
            runbook="gateway-latency",
            severity="warning",
            summary=f"Gateway target p99 response time above {config.alb_p99_latency_seconds}s.",
            threshold=config.alb_p99_latency_seconds,
            comparison="GreaterThanThreshold",
            periods=5,
            datapoints=3,
            namespace=elb,
            metric="TargetResponseTime",
            dimensions=alb,
            extended_statistic="p99",
        ),
        AlarmSpec(
            name="alb-unhealthy-hosts",
            runbook="gateway-health",
            severity="critical",
            summary="Gateway tasks failing ALB health checks.",
            threshold=0,
            comparison="GreaterThanThreshold",
            periods=3,
            namespace=elb,
            metric="UnHealthyHostCount",
            dimensions=target,
            statistic="Maximum",
        ),
        AlarmSpec(
            name="ecs-cpu",
            runbook="gateway-resources",
            severity="warning",
            summary=f"Gateway service CPU above {config.ecs_cpu_percent}%.",
            threshold=config.ecs_cpu_percent,
            comparison="GreaterThanThreshold",
            namespace="AWS/ECS",
            metric="CPUUtilization",
            dimensions=service,
            statistic="Average",
        ),
        AlarmSpec(
            name="ecs-memory",
            runbook="gateway-resources",
            severity="warning",
            summary=f"Gateway service memory above {config.ecs_memory_percent}%.",
            threshold=config.ecs_memory_percent,
            comparison="GreaterThanThreshold",
            namespace="AWS/ECS",
            metric="MemoryUtilization",
            dimensions=service,
            statistic="Average",
        ),
        AlarmSpec(
            name="ecs-running-tasks",
            runbook="gateway-health",
            severity="critical",
            summary=f"Fewer than {shape.gateway_min_count} gateway tasks running.",
            threshold=shape.gateway_min_count,
            comparison="LessThanThreshold",
            periods=3,
            # No datapoints means Container Insights sees no task at all: that is the outage.
            treat_missing_data="breaching",
            namespace="ECS/ContainerInsights",
            metric="RunningTaskCount",
            dimensions=service,
            statistic="Minimum",
        ),
    ]


def worker_alarm_specs(config: MonitoringConfig, shape: PlatformShape) -> list[AlarmSpec]:
    """Lambda errors, throttles and p99 duration close to the timeout."""
    function: Dimensions = (("FunctionName", "function"),)
    near_timeout_ms = shape.worker_timeout_seconds * 1000 * config.worker_duration_timeout_percent
    return [
        AlarmSpec(
            name="worker-errors",
            runbook="worker-errors",
            severity="critical",
            summary=f"Worker Lambda errors above {config.worker_errors_threshold} in 5 minutes.",
            threshold=config.worker_errors_threshold,
            comparison="GreaterThanThreshold",
            periods=1,
            period_seconds=300,
            namespace="AWS/Lambda",
            metric="Errors",
            dimensions=function,
            statistic="Sum",
        ),
        AlarmSpec(
            name="worker-throttles",
            runbook="worker-errors",
            severity="warning",
            summary=f"Worker Lambda throttled more than {config.worker_throttles_threshold} times.",
            threshold=config.worker_throttles_threshold,
            comparison="GreaterThanThreshold",
            periods=1,
            period_seconds=300,
            namespace="AWS/Lambda",
            metric="Throttles",
            dimensions=function,
            statistic="Sum",
        ),
        AlarmSpec(
            name="worker-duration-near-timeout",
            runbook="worker-duration",
            severity="warning",
            summary=(
                f"Worker p99 duration at {config.worker_duration_timeout_percent}% of its "
                f"{shape.worker_timeout_seconds}s timeout."
            ),
            threshold=near_timeout_ms / 100,
            comparison="GreaterThanOrEqualToThreshold",
            periods=3,
            period_seconds=300,
            datapoints=2,
            namespace="AWS/Lambda",
            metric="Duration",
            dimensions=function,
            extended_statistic="p99",
        ),
    ]


def queue_alarm_specs(config: MonitoringConfig) -> list[AlarmSpec]:
    """Age of the oldest job and any message at all in the dead-letter queue."""
    return [
        AlarmSpec(
            name="queue-age",
            runbook="queue-backlog",
            severity="critical",
            summary=f"Oldest inference job waiting more than {config.queue_age_seconds}s.",
            threshold=config.queue_age_seconds,
            comparison="GreaterThanThreshold",
            periods=5,
            datapoints=3,
            namespace="AWS/SQS",
            metric="ApproximateAgeOfOldestMessage",
            dimensions=(("QueueName", "queue"),),
            statistic="Maximum",
        ),
        AlarmSpec(
            name="dlq-depth",
            runbook="queue-dlq",
            severity="warning",
            summary="Jobs in the dead-letter queue: requests failed for good.",
            threshold=0,
            comparison="GreaterThanThreshold",
            periods=1,
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions=(("QueueName", "dlq"),),
            statistic="Maximum",
        ),
    ]


def database_alarm_specs(config: MonitoringConfig, shape: PlatformShape) -> list[AlarmSpec]:
    """Aurora CPU, freeable memory, connections and (with replicas) replica lag."""
    cluster: Dimensions = (("DBClusterIdentifier", "db_cluster"),)

    def rds(name: str, metric: str, statistic: str, **kwargs: object) -> AlarmSpec:
        return AlarmSpec(
            name=f"db-{name}",
            runbook="database",
            namespace="AWS/RDS",
            metric=metric,
            dimensions=cluster,
            statistic=statistic,
            **kwargs,  # type: ignore[arg-type]
        )

    specs = [
        rds(
            "cpu",
            "CPUUtilization",
            "Maximum",
            severity="warning",
            summary=f"An Aurora instance above {config.db_cpu_percent}% CPU.",
            threshold=config.db_cpu_percent,
            comparison="GreaterThanThreshold",
        ),
        rds(
            "freeable-memory",
            "FreeableMemory",
            "Minimum",
            severity="warning",
            summary=f"An Aurora instance below {config.db_freeable_memory_mb} MiB free memory.",
            threshold=config.db_freeable_memory_mb * MIB,
            comparison="LessThanThreshold",
        ),
        rds(
            "connections",
            "DatabaseConnections",
            "Maximum",
            severity="warning",
            summary=f"An Aurora instance above {config.db_connections_max} connections.",
            threshold=config.db_connections_max,
            comparison="GreaterThanThreshold",
        ),
    ]
    if shape.db_instance_count > 1:
        # The cluster-level metric AWS documents is AuroraReplicaLagMaximum: the worst lag
        # of any replica (AuroraReplicaLag itself is per instance).
        specs.append(
            rds(
                "replica-lag",
                "AuroraReplicaLagMaximum",
                "Maximum",
                severity="critical",
                summary=f"An Aurora replica lags the writer by > {config.db_replica_lag_ms} ms.",
                threshold=config.db_replica_lag_ms,
                comparison="GreaterThanThreshold",
            )
        )
    return specs


def cache_node_key(index: int) -> str:
    """Target key of the ``index``-th (1-based) node of the Redis replication group."""
    return f"cache_node_{index}"


def cache_alarm_specs(config: MonitoringConfig, shape: PlatformShape) -> list[AlarmSpec]:
    """Redis engine CPU, memory, evictions and replication lag, worst node wins.

    ElastiCache publishes these per node (``CacheClusterId`` = member cluster id), so each
    alarm takes the maximum over every node of the replication group with metric math.
    """
    nodes = range(1, shape.cache_node_count + 1)

    def worst(name: str, metric: str, stat: str, **kwargs: object) -> AlarmSpec:
        refs = tuple(
            MetricRef(
                f"n{i}", "AWS/ElastiCache", metric, (("CacheClusterId", cache_node_key(i)),), stat
            )
            for i in nodes
        )
        ids = ", ".join(ref.id for ref in refs)
        return AlarmSpec(
            name=f"cache-{name}",
            runbook="cache",
            comparison="GreaterThanThreshold",
            expression=f"MAX([{ids}])",
            metrics=refs,
            **kwargs,  # type: ignore[arg-type]
        )

    specs = [
        worst(
            "engine-cpu",
            "EngineCPUUtilization",
            "Average",
            severity="warning",
            summary=f"A Redis node's engine CPU above {config.cache_cpu_percent}%.",
            threshold=config.cache_cpu_percent,
        ),
        worst(
            "memory",
            "DatabaseMemoryUsagePercentage",
            "Maximum",
            severity="critical",
            summary=f"A Redis node above {config.cache_memory_percent}% of its memory.",
            threshold=config.cache_memory_percent,
        ),
        worst(
            "evictions",
            "Evictions",
            "Sum",
            severity="warning",
            summary=f"Redis evicted > {config.cache_evictions_threshold} keys in 5 minutes.",
            threshold=config.cache_evictions_threshold,
            periods=1,
            period_seconds=300,
        ),
    ]
    if shape.cache_node_count > 1:
        specs.append(
            worst(
                "replication-lag",
                "ReplicationLag",
                "Maximum",
                severity="warning",
                summary=(
                    "A Redis replica lags the primary by more than "
                    f"{config.cache_replication_lag_seconds}s."
                ),
                threshold=config.cache_replication_lag_seconds,
            )
        )
    return specs
