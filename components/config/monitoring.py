"""Monitoring layer settings: CloudWatch, CloudTrail, Datadog, Prometheus/Grafana."""

from __future__ import annotations

from pydantic import Field

from components.config.base import ConfigSection


class MonitoringConfig(ConfigSection):
    """Which observability back ends are on, and alarm thresholds."""

    cloudtrail_enabled: bool = Field(
        default=True, alias="cloudtrailEnabled", description="Create the multi-region trail."
    )
    datadog_enabled: bool = Field(
        default=False, alias="datadogEnabled", description="Create Datadog resources."
    )
    prometheus_enabled: bool = Field(
        default=False,
        alias="prometheusEnabled",
        description="Create Amazon Managed Prometheus and Grafana workspaces.",
    )
