"""`agatha queue inspect`: depth, age and a sample of dead-lettered jobs with their failure.

Job bodies are ``{"v": 1, "id": "<request id>", "tenant": "<tenant id>"}``; with
``--database-url`` the failure of each sampled request is read from
``inference_requests.error_code/error_message``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from runbooks.context import OpsContext
from runbooks.errors import PreconditionFailed
from runbooks.queues import peek, queue_depth, sent_timestamp


def parse_job(body: str) -> dict[str, str]:
    """Request and tenant id of a job body; {} when it is not the documented shape."""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return {}
    if not isinstance(parsed, dict) or "id" not in parsed:
        return {}
    return {"request_id": str(parsed["id"]), "tenant": str(parsed.get("tenant", ""))}


def sqlalchemy_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgres(ql)://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def failure_reasons(database_url: str, request_ids: list[str]) -> dict[str, dict[str, Any]]:
    """status, error_code and error_message of each request id found."""
    if not request_ids:
        return {}
    from sqlalchemy import bindparam, create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    query = text(
        "SELECT id, status, error_code, error_message, attempts FROM inference_requests "
        "WHERE id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    engine = create_engine(sqlalchemy_url(database_url), connect_args=_connect_args(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(query, {"ids": request_ids}).mappings().all()
    except SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown"])[0]
        raise PreconditionFailed(
            f"could not read failure reasons from the database: {reason}. Check --database-url "
            "(a read-only user through a tunnel is enough) or omit it."
        ) from exc
    finally:
        engine.dispose()
    return {str(row["id"]): dict(row) for row in rows}


def _connect_args(url: str) -> dict[str, Any]:
    return {"connect_timeout": 10} if url.startswith(("postgres", "postgresql")) else {}


def oldest_age_seconds(ctx: OpsContext, queue_name: str) -> float | None:
    """ApproximateAgeOfOldestMessage (max over the last 10 minutes), None without data."""
    end = ctx.now()
    datapoints = ctx.aws.call(
        "cloudwatch",
        "get_metric_statistics",
        resource=queue_name,
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": queue_name}],
        StartTime=end - timedelta(minutes=10),
        EndTime=end,
        Period=60,
        Statistics=["Maximum"],
    ).get("Datapoints", [])
    return max(float(d["Maximum"]) for d in datapoints) if datapoints else None


def _queue_summary(ctx: OpsContext, url: str) -> dict[str, Any]:
    depth = queue_depth(ctx.aws, url)
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return {
        "url": url,
        "visible": depth.visible,
        "in_flight": depth.in_flight,
        "delayed": depth.delayed,
        "oldest_age_seconds": oldest_age_seconds(ctx, name),
    }


def _sample_row(message: dict[str, Any], now: datetime) -> dict[str, Any]:
    job = parse_job(message.get("Body", ""))
    sent = sent_timestamp(message)
    return {
        "message_id": message["MessageId"],
        "request_id": job.get("request_id", "(unparseable body)"),
        "tenant": job.get("tenant", ""),
        "age_seconds": round(now.timestamp() - sent) if sent else None,
        "receive_count": message.get("Attributes", {}).get("ApproximateReceiveCount"),
    }


def do_queue_inspect(
    ctx: OpsContext, *, sample: int = 10, database_url: str | None = None
) -> dict[str, Any]:
    """Depth and age of both queues plus a sample of DLQ messages with failure reasons."""
    queue_url, dlq_url = ctx.outputs.get("queue-url"), ctx.outputs.get("dlq-url")
    now = ctx.now().astimezone(UTC)
    messages = peek(ctx.aws, dlq_url, limit=sample) if sample > 0 else []
    rows = [_sample_row(m, now) for m in messages]
    if database_url:
        found = failure_reasons(database_url, [r["request_id"] for r in rows])
        for row in rows:
            record = found.get(row["request_id"], {})
            row["status"] = record.get("status", "(not in database)")
            row["error_code"] = record.get("error_code")
            row["error_message"] = record.get("error_message")
    dlq = _queue_summary(ctx, dlq_url)
    if dlq["oldest_age_seconds"] is None and rows:
        ages = [r["age_seconds"] for r in rows if r["age_seconds"] is not None]
        dlq["oldest_age_seconds"] = max(ages) if ages else None  # sample, not exact
    return {
        "stack": ctx.stack,
        "queue": _queue_summary(ctx, queue_url),
        "dlq": dlq,
        "dlq_sample": rows,
    }
