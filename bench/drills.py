"""Reliability drills under steady load: kill -9 the worker, restart PostgreSQL, stop Redis
for 30 s, restart the emulator, provider 429/500/timeouts. Bounded, 127.0.0.1 only.

For each drill: accepted (202), completed, failed (by error code), lost (accepted but no
row, or still pending/processing after the settle time), completed but never archived
(no archive key on the row after the settle time: the S3 copy is part of the job),
duplicated provider calls
(the fake served one prompt successfully twice) and what clients saw (statuses,
Retry-After on 429/503, timeouts = hangs).

    .venv/bin/python -m bench.drills                   # all drills (~10 minutes)
    .venv/bin/python -m bench.drills --only worker-kill --rate 5 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from bench import faults
from bench.procs import ROOT
from bench.procstat import load_average
from bench.stack import DEFAULT_INTERRUPTED_CALLS, MODEL, Stack, StackOptions, running_stack
from bench.targets import Target, loadgen_argv

RESULTS = ROOT / "bench" / "results"
CLIENT_TIMEOUT = 10.0
TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})
# Short leases and visibility so a killed worker's jobs come back within the drill, and a
# short sweep so a message lost with the emulator is sent again within the settle time.
DRILL_WORKER_ENV = {
    "WORKER_REAP_INTERVAL_SECONDS": "10",
    "WORKER_REQUEUE_PENDING_AFTER_SECONDS": "30",
    "WORKER_CONCURRENCY": "32",
    "WORKER_LEASE_SECONDS": "10",
    "WORKER_HEARTBEAT_SECONDS": "3",
    "WORKER_VISIBILITY_TIMEOUT_SECONDS": "15",
    "WORKER_POLL_WAIT_SECONDS": "2",
    "WORKER_SHUTDOWN_GRACE_SECONDS": "5",
    "PROVIDER_TIMEOUT_SECONDS": "5",
    "PROVIDER_BACKOFF_BASE_SECONDS": "0.2",
    "PROVIDER_BACKOFF_MAX_SECONDS": "2",
}
Fault = Callable[[Stack], str]


@dataclass(frozen=True)
class Drill:
    name: str
    fault: Fault
    description: str


DRILLS = (
    Drill(
        "worker-kill", faults.kill_worker, "kill -9 the worker mid-batch, start a new one 5 s later"
    ),
    Drill(
        "postgres-restart", faults.restart_postgres, "pg_ctl restart -m fast (all connections drop)"
    ),
    Drill(
        "redis-stop-30s", faults.stop_redis_30s, "stop Redis for 30 s, then start it again (empty)"
    ),
    Drill(
        "emulator-restart",
        faults.restart_emulator,
        "stop the AWS emulator, start it again, recreate resources",
    ),
    Drill(
        "provider-faults",
        faults.provider_faults,
        "fake provider: 429 for 8 s, 500 for 8 s, timeouts for 8 s",
    ),
)


def start_load(
    stack: Stack, drill: Drill, *, rate: float, duration: float, records: Path
) -> subprocess.Popen[bytes]:
    body = json.dumps({"prompt": f"drill {drill.name} {{i}}", "model": MODEL})
    target = Target(drill.name, f"{stack.gateway_url}/api/inference", 0, body, stack.headers())
    argv = loadgen_argv(
        target,
        concurrency=128,
        duration=duration,
        rate=rate,
        timeout=CLIENT_TIMEOUT,
        records=records,
    )
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Row(NamedTuple):
    """What the audit reads of one request's row."""

    status: str
    error_code: str | None
    archived: bool = False  # the row holds its archive key (the worker wrote the S3 copy)


async def row_statuses(stack: Stack, ids: list[str]) -> dict[str, Row]:
    """id -> its ``Row`` for the given request ids."""
    import sqlalchemy as sa

    from app.db.engine import create_engine_for
    from app.db.models import InferenceRequest

    table: Any = InferenceRequest.__table__
    engine = create_engine_for(stack.database_url)
    out: dict[str, Row] = {}
    try:
        async with engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = sa.select(
                    table.c.id, table.c.status, table.c.error_code, table.c.archive_key
                ).where(table.c.id.in_(ids[start : start + 500]))
                out |= {
                    r[0]: Row(str(r[1]), r[2], r[3] is not None)
                    for r in (await conn.execute(query)).all()
                }
    finally:
        await engine.dispose()
    return out


def _unsettled(row: Row) -> bool:
    return row.status not in TERMINAL or (row.status == "completed" and not row.archived)


def settle(stack: Stack, ids: list[str], timeout: float) -> dict[str, Row]:
    """Wait (bounded) until every accepted request is terminal and every completed one
    archived (a put refused during a fault is retried on redelivery); the last rows seen."""
    deadline = time.monotonic() + timeout
    rows = asyncio.run(row_statuses(stack, ids))
    while time.monotonic() < deadline and any(map(_unsettled, rows.values())):
        time.sleep(2)  # polling the database, bounded by ``timeout``
        rows = asyncio.run(row_statuses(stack, ids))
    return rows


def audit(
    records: list[dict[str, Any]], rows: dict[str, Row], provider: dict[str, Any]
) -> dict[str, Any]:
    """The drill's table row from the client records, the rows and the fake's counters."""
    accepted = [r["request_id"] for r in records if r["status"] == 202 and r["request_id"]]
    statuses = Counter(rows[i].status if i in rows else "missing" for i in accepted)
    failed = Counter(
        rows[i].error_code or "?" for i in accepted if i in rows and rows[i].status == "failed"
    )
    refused = [r for r in records if r["status"] in (429, 503)]
    return {
        "sent": len(records),
        "accepted": len(accepted),
        "completed": statuses.get("completed", 0),
        "failed": dict(failed),
        "lost": statuses.get("missing", 0)
        + sum(n for s, n in statuses.items() if s in ("pending", "processing")),
        "not_terminal": {s: n for s, n in statuses.items() if s not in TERMINAL},
        "completed_not_archived": sum(
            1
            for i in accepted
            if i in rows and rows[i].status == "completed" and not rows[i].archived
        ),
        "duplicated_provider_calls": provider["duplicate_successes"],
        "provider_calls": provider["calls_for_prefix"],
        "client_statuses": dict(Counter(str(r["status"] or r["error"]) for r in records)),
        "refused_without_retry_after": sum(1 for r in refused if not r["retry_after"]),
        "client_timeouts (hangs)": sum(1 for r in records if r["error"] == "timeout"),
    }


def run_drill(
    stack: Stack, drill: Drill, *, rate: float, duration: float, settle_timeout: float
) -> dict[str, Any]:
    records_path = RESULTS / "tmp" / "drills" / f"{drill.name}.jsonl"
    records_path.parent.mkdir(parents=True, exist_ok=True)
    load = load_average()
    loadgen = start_load(stack, drill, rate=rate, duration=duration, records=records_path)
    time.sleep(duration / 4)  # steady load before the fault
    started = time.monotonic()
    detail = drill.fault(stack)
    fault_seconds = time.monotonic() - started
    loadgen.wait(timeout=duration + CLIENT_TIMEOUT + 120)
    records = [json.loads(line) for line in records_path.read_text().splitlines()]
    ids = [r["request_id"] for r in records if r["status"] == 202 and r["request_id"]]
    rows = settle(stack, ids, settle_timeout)
    result: dict[str, Any] = {"drill": drill.name, "fault": drill.description, "detail": detail}
    result |= {
        "fault_seconds": round(fault_seconds, 1),
        "load_average_before": [round(x, 2) for x in load],
    }
    return result | audit(records, rows, stack.fake_stats(prefix=f"drill {drill.name} "))


def queue_visibility(stack: Stack, override: int | None) -> int:
    """The job queue's VisibilityTimeout, after applying ``override`` if given."""
    sqs, url = stack.sqs(), stack.env["QUEUE_URL"]
    if override is not None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(override)})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    return int(attrs["Attributes"]["VisibilityTimeout"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="drill name (repeatable)")
    parser.add_argument("--rate", type=float, default=8.0)
    parser.add_argument("--duration", type=float, default=50.0)
    parser.add_argument("--settle", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "drills.json")
    parser.add_argument(
        "--queue-visibility",
        type=int,
        default=None,
        help="override the job queue's VisibilityTimeout (s) so crash recovery fits the drill",
    )
    parser.add_argument(
        "--interrupted-calls",
        choices=("retry", "fail"),
        default=DEFAULT_INTERRUPTED_CALLS,
        help="WORKER_INTERRUPTED_CALLS of the worker: make a killed worker's calls again or not"
        f" (default: the worker's own, {DEFAULT_INTERRUPTED_CALLS})",
    )
    args = parser.parse_args(argv)
    chosen = [d for d in DRILLS if not args.only or d.name in args.only]
    worker_env = DRILL_WORKER_ENV | {"WORKER_INTERRUPTED_CALLS": args.interrupted_calls}
    options = StackOptions(workers=1, fake_latency=0.2, worker_env=worker_env)
    results = []
    with running_stack(options, RESULTS / "tmp" / "drills") as stack:
        visibility = queue_visibility(stack, args.queue_visibility)
        for drill in chosen:
            results.append(
                run_drill(
                    stack, drill, rate=args.rate, duration=args.duration, settle_timeout=args.settle
                )
            )
            print(json.dumps(results[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "rate": args.rate,
        "duration": args.duration,
        "queue_visibility_s": visibility,
        "worker_interrupted_calls": args.interrupted_calls,
    }
    args.out.write_text(json.dumps(summary | {"drills": results}, indent=2))


if __name__ == "__main__":
    main()
