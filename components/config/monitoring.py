"""Monitoring layer settings: CloudWatch alarms, CloudTrail, Datadog, Prometheus/Grafana."""

from __future__ import annotations

from pydantic import Field, model_validator

from components.config.base import ConfigSection


class MonitoringConfig(ConfigSection):
    """Which observability back ends are on, alarm thresholds and service objectives."""

    cloudtrail_enabled: bool = Field(
        default=True, alias="cloudtrailEnabled", description="Create the multi-region trail."
    )
    cis_alarms_enabled: bool = Field(
        default=True,
        alias="cisAlarmsEnabled",
        description="CIS metric filters and alarms on the trail's log group (needs the trail).",
    )
    cloudtrail_expiration_days: int = Field(
        default=2555,
        ge=365,
        alias="cloudtrailExpirationDays",
        description="Days CloudTrail log files stay in the trail bucket (>= 365).",
    )
    datadog_enabled: bool = Field(
        default=False, alias="datadogEnabled", description="Create Datadog resources."
    )
    prometheus_enabled: bool = Field(
        default=False,
        alias="prometheusEnabled",
        description="Create Amazon Managed Prometheus and Grafana workspaces.",
    )
    alb_5xx_rate_percent: float = Field(
        default=5.0,
        gt=0,
        le=100,
        alias="alb5xxRatePercent",
        description="Alarm when target 5xx responses exceed this % of ALB requests.",
    )
    alb_p99_latency_seconds: float = Field(
        default=2.0,
        gt=0,
        alias="albP99LatencySeconds",
        description="Alarm when the ALB target p99 response time exceeds this (seconds).",
    )
    ecs_cpu_percent: int = Field(
        default=80, ge=1, le=100, alias="ecsCpuPercent", description="Gateway ECS CPU alarm (%)."
    )
    ecs_memory_percent: int = Field(
        default=80,
        ge=1,
        le=100,
        alias="ecsMemoryPercent",
        description="Gateway ECS memory alarm (%).",
    )
    worker_errors_threshold: int = Field(
        default=5,
        ge=0,
        alias="workerErrorsThreshold",
        description="Alarm when the worker Lambda reports more errors than this in 5 minutes.",
    )
    worker_throttles_threshold: int = Field(
        default=0,
        ge=0,
        alias="workerThrottlesThreshold",
        description="Alarm when worker throttles in 5 minutes exceed this.",
    )
    worker_duration_timeout_percent: int = Field(
        default=80,
        ge=10,
        le=100,
        alias="workerDurationTimeoutPercent",
        description="Alarm when worker p99 duration reaches this % of the function timeout.",
    )
    worker_failure_rate_percent: float = Field(
        default=5.0,
        gt=0,
        le=100,
        alias="workerFailureRatePercent",
        description="Datadog monitor: worker errors as % of invocations.",
    )
    queue_age_seconds: int = Field(
        default=300,
        ge=60,
        alias="queueAgeSeconds",
        description="Alarm when the oldest job in the queue is older than this (seconds).",
    )
    db_cpu_percent: int = Field(
        default=80, ge=1, le=100, alias="dbCpuPercent", description="Aurora CPU alarm (%)."
    )
    db_freeable_memory_mb: int = Field(
        default=256,
        ge=1,
        alias="dbFreeableMemoryMb",
        description="Alarm when Aurora freeable memory falls below this (MiB).",
    )
    db_connections_max: int = Field(
        default=400,
        ge=1,
        alias="dbConnectionsMax",
        description="Alarm when an Aurora instance holds more connections than this.",
    )
    db_replica_lag_ms: int = Field(
        default=1000,
        ge=1,
        alias="dbReplicaLagMs",
        description="Alarm when Aurora replica lag exceeds this (milliseconds).",
    )
    cache_cpu_percent: int = Field(
        default=75,
        ge=1,
        le=100,
        alias="cacheCpuPercent",
        description="Redis engine CPU alarm (%).",
    )
    cache_memory_percent: int = Field(
        default=80,
        ge=1,
        le=100,
        alias="cacheMemoryPercent",
        description="Redis DatabaseMemoryUsagePercentage alarm (%).",
    )
    cache_evictions_threshold: int = Field(
        default=100,
        ge=0,
        alias="cacheEvictionsThreshold",
        description="Alarm when Redis evicts more keys than this in 5 minutes.",
    )
    cache_replication_lag_seconds: int = Field(
        default=30,
        ge=1,
        alias="cacheReplicationLagSeconds",
        description="Alarm when a Redis replica lags the primary by more than this (seconds).",
    )
    slo_availability_target: float = Field(
        default=99.9,
        gt=0,
        lt=100,
        alias="sloAvailabilityTarget",
        description="Datadog SLO: % of gateway requests without a 5xx over 30 days.",
    )
    slo_latency_target: float = Field(
        default=99.0,
        gt=0,
        lt=100,
        alias="sloLatencyTarget",
        description="Datadog SLO: % of 5-minute slices whose p99 stays under albP99LatencySeconds.",
    )

    @model_validator(mode="after")
    def _cis_needs_trail(self) -> MonitoringConfig:
        if self.cis_alarms_enabled and not self.cloudtrail_enabled:
            raise ValueError(
                "cisAlarmsEnabled: needs cloudtrailEnabled (the CIS filters read the trail's "
                "log group); turn the trail on or set cisAlarmsEnabled to false"
            )
        return self
