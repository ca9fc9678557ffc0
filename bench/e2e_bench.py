"""End-to-end overhead: POST -> result available (long-poll) minus the provider's latency.

Gateway + one worker + the fake provider (fixed latency). Each client submits, then
long-polls ``GET /api/inference/{id}/result?wait=20``. The overhead is split with the
row's own timestamps: queue pickup (created -> started), worker (started -> completed
minus provider latency) and result delivery (completed -> client saw 200).

    .venv/bin/python -m bench.e2e_bench --requests 60 --clients 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import ROOT
from bench.procstat import load_average
from bench.stack import MODEL, Stack, StackOptions, running_stack
from bench.stats import latency_summary

RESULTS = ROOT / "bench" / "results"
REQUEST_TIMEOUT = 60.0


async def one(session: aiohttp.ClientSession, base: str, index: int) -> dict[str, Any]:
    """Submit and long-poll one request; returns client-side timings and the row's times."""
    body = {"prompt": f"e2e {index} {time.time_ns()}", "model": MODEL}
    started = time.perf_counter()
    async with session.post(f"{base}/api/inference", json=body) as response:
        accepted = await response.json()
        assert response.status == 202, accepted
    accepted_at = time.perf_counter()
    status, payload = 202, {}
    while status == 202 and time.perf_counter() - started < REQUEST_TIMEOUT:
        url = f"{base}/api/inference/{accepted['id']}/result?wait=20"
        async with session.get(url) as response:
            status, payload = response.status, await response.json()
    done = time.perf_counter()
    return {
        "status": status,
        "total_s": done - started,
        "accept_s": accepted_at - started,
        "seen_at": datetime.now(UTC),
        "id": accepted["id"],
        "processing_ms": payload.get("processingTime"),
    }


async def _row_times(stack: Stack, ids: list[str]) -> dict[str, dict[str, datetime]]:
    import sqlalchemy as sa

    from app.db.engine import create_engine_for
    from app.db.models import InferenceRequest

    table: Any = InferenceRequest.__table__
    engine = create_engine_for(stack.database_url)
    query = sa.select(table.c.id, table.c.created_at, table.c.started_at, table.c.completed_at)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(query.where(table.c.id.in_(ids)))).all()
    finally:
        await engine.dispose()
    return {r[0]: {"created": r[1], "started": r[2], "completed": r[3]} for r in rows}


def split(
    results: list[dict[str, Any]], rows: dict[str, dict[str, datetime]], latency: float
) -> dict[str, Any]:
    """Overhead percentiles overall and per stage (seconds -> ms summaries)."""
    ok = [r for r in results if r["status"] == 200 and r["id"] in rows]
    pickup = [(rows[r["id"]]["started"] - rows[r["id"]]["created"]).total_seconds() for r in ok]
    work = [
        (rows[r["id"]]["completed"] - rows[r["id"]]["started"]).total_seconds() - latency
        for r in ok
    ]
    delivery = [(r["seen_at"] - rows[r["id"]]["completed"]).total_seconds() for r in ok]
    return {
        "completed": len(ok),
        "overhead": latency_summary([r["total_s"] - latency for r in ok]),
        "accept (POST -> 202)": latency_summary([r["accept_s"] for r in ok]),
        "queue pickup (created -> started)": latency_summary(pickup),
        "worker minus provider (started -> completed - latency)": latency_summary(work),
        "result delivery (completed -> client has 200)": latency_summary(delivery),
    }


async def drive(stack: Stack, *, requests: int, clients: int) -> list[dict[str, Any]]:
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT + 10)
    async with aiohttp.ClientSession(headers=stack.headers(), timeout=timeout) as session:
        await asyncio.gather(*(one(session, stack.gateway_url, -i) for i in range(1, 5)))
        counter = iter(range(requests))
        results: list[dict[str, Any]] = []

        async def client() -> None:
            for index in counter:
                results.append(await one(session, stack.gateway_url, index))

        await asyncio.gather(*(client() for _ in range(clients)))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=RESULTS / "e2e.json")
    args = parser.parse_args(argv)
    options = StackOptions(
        workers=1, fake_latency=args.latency, worker_env={"WORKER_CONCURRENCY": "64"}
    )
    with running_stack(options, RESULTS / "tmp" / "e2e") as stack:
        load = load_average()
        results = asyncio.run(drive(stack, requests=args.requests, clients=args.clients))
        rows = asyncio.run(_row_times(stack, [r["id"] for r in results]))
    summary = {
        "provider_latency_s": args.latency,
        "clients": args.clients,
        "requests": args.requests,
        "load_average_before": [round(x, 2) for x in load],
        **split(results, rows, args.latency),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
