"""Types of the alarm table: one alarm, one metric in a metric-math alarm, the platform shape.

Pure (no Pulumi): ``monitoring_alarms`` fills these from config, the component creates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RUNBOOK_DIR = "runbooks/alarms"
SEVERITIES = ("critical", "warning", "info")
MIB = 1024 * 1024

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MetricRef:
    """One metric inside a metric-math alarm."""

    id: str
    namespace: str
    metric: str
    dimensions: Dimensions
    stat: str


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: what it watches, when it fires, how bad it is and what to read."""

    name: str
    runbook: str
    severity: str
    summary: str
    threshold: float
    comparison: str
    periods: int = 5
    datapoints: int | None = None
    period_seconds: int = 60
    treat_missing_data: str = "notBreaching"
    namespace: str = ""
    metric: str = ""
    dimensions: Dimensions = ()
    statistic: str | None = None
    extended_statistic: str | None = None
    expression: str | None = None
    metrics: tuple[MetricRef, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"alarm {self.name}: severity {self.severity!r} not in {SEVERITIES}")
        one_statistic = (self.statistic is None) != (self.extended_statistic is None)
        has_math = self.expression is not None or bool(self.metrics)
        single = bool(self.metric) and one_statistic and not has_math
        math = self.expression is not None and bool(self.metrics) and not self.metric
        if single == math:
            raise ValueError(
                f"alarm {self.name}: give either metric + one statistic or expression + metrics"
            )

    @property
    def runbook_path(self) -> str:
        """Repository path of the runbook for this alarm."""
        return f"{RUNBOOK_DIR}/{self.runbook}.md"

    @property
    def description(self) -> str:
        """alarm_description: severity and runbook first, so pages and tools can parse them."""
        return f"severity={self.severity} runbook={self.runbook_path} {self.summary}"

    @property
    def target_keys(self) -> frozenset[str]:
        """Every target key the dimensions of this alarm refer to."""
        pairs = list(self.dimensions) + [d for m in self.metrics for d in m.dimensions]
        return frozenset(key for _, key in pairs)


@dataclass(frozen=True)
class PlatformShape:
    """Facts about the deployed resources the alarm table depends on."""

    gateway_min_count: int
    worker_timeout_seconds: int
    db_instance_count: int
    cache_node_count: int
