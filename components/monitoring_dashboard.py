"""The platform's CloudWatch dashboard, drawn from the same alarm table as the alarms.

Pure: ``dashboard_body`` takes resolved names; the component calls it inside an
``Output.apply`` (building a string there is fine, creating resources is not).
"""

from __future__ import annotations

from typing import Any

from components.monitoring_alarms import AlarmSpec, MetricRef

WIDGET_WIDTH = 12
WIDGET_HEIGHT = 6
MAX_ALARMS_PER_WIDGET = 100


def _dimension_values(
    dimensions: tuple[tuple[str, str], ...], targets: dict[str, str]
) -> list[str]:
    values: list[str] = []
    for dimension, key in dimensions:
        values += [dimension, targets[key]]
    return values


def _metric_line(ref: MetricRef, targets: dict[str, str]) -> list[Any]:
    options = {"id": ref.id, "stat": ref.stat, "visible": False}
    return [ref.namespace, ref.metric, *_dimension_values(ref.dimensions, targets), options]


def metric_widget(spec: AlarmSpec, *, targets: dict[str, str], region: str) -> dict[str, Any]:
    """A graph of what ``spec`` watches, with its threshold drawn in."""
    if spec.expression is not None:
        metrics: list[list[Any]] = [
            [{"expression": spec.expression, "label": spec.name, "id": "e1"}],
            *(_metric_line(ref, targets) for ref in spec.metrics),
        ]
    else:
        stat = spec.extended_statistic or spec.statistic
        metrics = [
            [
                spec.namespace,
                spec.metric,
                *_dimension_values(spec.dimensions, targets),
                {"stat": stat, "label": spec.name},
            ]
        ]
    return {
        "type": "metric",
        "width": WIDGET_WIDTH,
        "height": WIDGET_HEIGHT,
        "properties": {
            "title": f"{spec.name} ({spec.severity})",
            "region": region,
            "view": "timeSeries",
            "period": spec.period_seconds,
            "metrics": metrics,
            "annotations": {"horizontal": [{"label": "alarm threshold", "value": spec.threshold}]},
        },
    }


def dashboard_body(
    *,
    title: str,
    specs: list[AlarmSpec],
    targets: dict[str, str],
    region: str,
    alarm_arns: list[str],
) -> dict[str, Any]:
    """Header, alarm status, then one graph per alarm in table order."""
    header = {
        "type": "text",
        "width": 24,
        "height": 2,
        "properties": {
            "markdown": (
                f"# {title}\nEvery graph is one alarm; runbooks live in `runbooks/alarms/`."
            )
        },
    }
    status = {
        "type": "alarm",
        "width": 24,
        "height": 4,
        "properties": {
            "title": "Alarm status",
            "alarms": sorted(alarm_arns)[:MAX_ALARMS_PER_WIDGET],
            "sortBy": "stateUpdatedTimestamp",
        },
    }
    graphs = [metric_widget(s, targets=targets, region=region) for s in specs]
    return {"widgets": [header, status, *graphs]}
