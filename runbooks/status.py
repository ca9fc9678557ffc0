"""`agatha status`: the deployed platform at a glance (read-only).

Each check runs on its own: one failing lookup shows as an ``error`` row instead of
hiding the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from components.naming import base_name
from components.published_outputs import PROVIDER_SECRETS, SERVICE_SECRETS
from runbooks.context import OpsContext
from runbooks.deploy_restart_gateway import describe_service
from runbooks.errors import RunbookError
from runbooks.failover_cache import read_group
from runbooks.failover_database import read_cluster
from runbooks.queue_inspect import oldest_age_seconds
from runbooks.queues import queue_depth
from runbooks.stack_outputs import SERVICE

SECRET_MAX_AGE_DAYS = 90
Row = dict[str, Any]


def _row(component: str, check: str, value: Any, state: str) -> Row:
    return {"component": component, "check": check, "value": value, "state": state}


def gateway_rows(ctx: OpsContext) -> list[Row]:
    service = describe_service(
        ctx, ctx.outputs.get("ecs-cluster-name"), ctx.outputs.get("gateway-service-name")
    )
    running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
    deployments = len(service.get("deployments", []))
    return [
        _row(
            "gateway",
            "tasks running/desired",
            f"{running}/{desired}",
            "ok" if running >= desired > 0 else "fail",
        ),
        _row("gateway", "deployments", deployments, "ok" if deployments == 1 else "warn"),
    ]


def worker_rows(ctx: OpsContext) -> list[Row]:
    function = ctx.outputs.get("worker-function-name")
    end = ctx.now()
    points = ctx.aws.call(
        "cloudwatch",
        "get_metric_statistics",
        resource=function,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=end - timedelta(hours=1),
        EndTime=end,
        Period=3600,
        Statistics=["Sum"],
    ).get("Datapoints", [])
    errors = int(sum(p["Sum"] for p in points))
    return [_row("worker", "errors (last hour)", errors, "ok" if errors == 0 else "warn")]


def queue_rows(ctx: OpsContext) -> list[Row]:
    rows = []
    for label, key in (("queue", "queue-url"), ("dlq", "dlq-url")):
        url = ctx.outputs.get(key)
        depth = queue_depth(ctx.aws, url)
        bad = "warn" if label == "dlq" else "ok"
        rows.append(
            _row(
                label,
                "depth (visible/in flight)",
                f"{depth.visible}/{depth.in_flight}",
                bad if depth.visible else "ok",
            )
        )
        age = oldest_age_seconds(ctx, url.rstrip("/").rsplit("/", 1)[-1])
        rows.append(_row(label, "oldest message age (s)", "n/a" if age is None else int(age), "ok"))
    return rows


def database_rows(ctx: OpsContext) -> list[Row]:
    state = read_cluster(ctx, ctx.outputs.get("db-cluster-id"))
    ready = sum(1 for r in state.readers if state.instance_status.get(r) == "available")
    return [
        _row(
            "database",
            "cluster status",
            state.status,
            "ok" if state.status == "available" else "fail",
        ),
        _row("database", "writer", state.writer or "none", "ok" if state.writer else "fail"),
        _row(
            "database",
            "replicas available",
            f"{ready}/{len(state.readers)}",
            "ok" if ready == len(state.readers) else "warn",
        ),
    ]


def cache_rows(ctx: OpsContext) -> list[Row]:
    state = read_group(ctx, ctx.outputs.get("cache-replication-group-id"))
    return [
        _row("cache", "status", state.status, "ok" if state.status == "available" else "fail"),
        _row("cache", "primary", state.primary or "none", "ok" if state.primary else "fail"),
        _row("cache", "replicas", len(state.replicas), "ok"),
    ]


def alarm_rows(ctx: OpsContext) -> list[Row]:
    prefix = base_name(service=SERVICE, stack=ctx.stack)
    alarms = ctx.aws.call(
        "cloudwatch",
        "describe_alarms",
        resource=f"alarms {prefix}*",
        AlarmNamePrefix=prefix,
        StateValue="ALARM",
    ).get("MetricAlarms", [])
    names = sorted(a["AlarmName"] for a in alarms)
    return [_row("alarms", "in ALARM", ", ".join(names) or "none", "fail" if names else "ok")]


def secret_rows(ctx: OpsContext) -> list[Row]:
    rows = []
    keys = ["db-master-secret-arn", "cache-auth-secret-arn", "jwt-signing-secret-arn"]
    keys += [f"secret-arn-{name}" for name in (*PROVIDER_SECRETS, *SERVICE_SECRETS)]
    for key in keys:
        arn = ctx.outputs.get(key)
        described = ctx.aws.call("secretsmanager", "describe_secret", resource=arn, SecretId=arn)
        changed = described.get("LastRotatedDate") or described.get("LastChangedDate")
        days = (ctx.now() - changed).days if changed else None
        state = "warn" if days is None or days > SECRET_MAX_AGE_DAYS else "ok"
        rows.append(
            _row("secrets", f"{key} age (days)", "unknown" if days is None else days, state)
        )
    return rows


CHECKS: tuple[tuple[str, Callable[[OpsContext], list[Row]]], ...] = (
    ("gateway", gateway_rows),
    ("worker", worker_rows),
    ("queues", queue_rows),
    ("database", database_rows),
    ("cache", cache_rows),
    ("alarms", alarm_rows),
    ("secrets", secret_rows),
)


def do_status(ctx: OpsContext) -> dict[str, Any]:
    """Every check's rows; a failing lookup becomes an ``error`` row naming the fix."""
    rows: list[Row] = []
    for component, check in CHECKS:
        try:
            rows.extend(check(ctx))
        except RunbookError as exc:
            rows.append(_row(component, "lookup", exc.format_message(), "error"))
    worst = "ok"
    for level in ("warn", "error", "fail"):
        if any(r["state"] == level for r in rows):
            worst = level
    return {"stack": ctx.stack, "region": ctx.region, "overall": worst, "checks": rows}
