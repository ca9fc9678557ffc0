"""aiohttp load generator, run in its own process so its CPU never counts for the server.

Closed loop (``--concurrency`` workers back to back) or open loop (``--rate`` requests/s,
latency measured from each request's scheduled start so queueing is not hidden).
``{i}`` in the body is replaced by the request's index (unique prompts let the drills
count provider calls per request). Prints one JSON summary on stdout; ``--records``
writes one JSON line per request (index, status, seconds, id, retry-after).

    .venv/bin/python -m bench.loadgen --url http://127.0.0.1:8000/api/inference \
        --concurrency 32 --duration 10 --header "Authorization: Bearer agk_..." \
        --body '{"prompt": "hello {i}", "model": "gpt-4o-mini"}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.stats import latency_summary


@dataclass(frozen=True)
class LoadSpec:
    """What to send, how hard and for how long."""

    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    concurrency: int = 16
    duration: float = 5.0
    max_requests: int | None = None
    rate: float | None = None
    timeout: float = 30.0
    warmup: float = 0.0


@dataclass
class Record:
    """One request's outcome."""

    index: int
    status: int
    seconds: float
    request_id: str | None = None
    retry_after: str | None = None
    error: str | None = None


@dataclass
class Run:
    """Everything observed during one load run."""

    records: list[Record] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    skipped: int = 0

    def summary(self, warmup: float = 0.0) -> dict[str, Any]:
        """Counts by status, throughput and latency of the measured window."""
        measured = [r for r in self.records if r.index >= 0]
        ok = [r.seconds for r in measured if 200 <= r.status < 300]
        wall = max(self.finished - self.started - warmup, 1e-9)
        statuses = Counter(str(r.status) for r in measured)
        errors = Counter(r.error for r in measured if r.error)
        return {
            "requests": len(measured),
            "ok": len(ok),
            "statuses": dict(sorted(statuses.items())),
            "errors": dict(errors),
            "timeouts": sum(1 for r in measured if r.error == "timeout"),
            "skipped_over_cap": self.skipped,
            "wall_seconds": round(wall, 3),
            "ok_per_second": round(len(ok) / wall, 1),
            "latency_ok": latency_summary(ok),
            "latency_all": latency_summary([r.seconds for r in measured]),
        }


async def _one(
    session: aiohttp.ClientSession, spec: LoadSpec, index: int, scheduled: float
) -> Record:
    data = spec.body.replace("{i}", str(index)).encode() if spec.body is not None else None
    try:
        async with session.request(spec.method, spec.url, data=data) as response:
            payload = await response.read()
            record = Record(index, response.status, time.perf_counter() - scheduled)
            record.retry_after = response.headers.get("Retry-After")
            if payload[:1] == b"{":
                record.request_id = _request_id(payload)
            return record
    except TimeoutError:
        return Record(index, 0, time.perf_counter() - scheduled, error="timeout")
    except aiohttp.ClientError as exc:
        return Record(index, 0, time.perf_counter() - scheduled, error=type(exc).__name__)


def _request_id(payload: bytes) -> str | None:
    try:
        value = json.loads(payload).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


async def _closed_loop(session: aiohttp.ClientSession, spec: LoadSpec, run: Run) -> None:
    deadline = run.started + spec.warmup + spec.duration
    counter = iter(range(10**9))

    async def worker() -> None:
        while time.perf_counter() < deadline:
            index = next(counter)
            if spec.max_requests is not None and index >= spec.max_requests:
                return
            now = time.perf_counter()
            record = await _one(session, spec, index, now)
            if now < run.started + spec.warmup:
                record.index = -1  # warm-up request: not measured
            run.records.append(record)

    await asyncio.gather(*(worker() for _ in range(spec.concurrency)))


async def _open_loop(session: aiohttp.ClientSession, spec: LoadSpec, run: Run) -> None:
    assert spec.rate is not None
    inflight: set[asyncio.Task[None]] = set()
    total = int(spec.rate * spec.duration)
    if spec.max_requests is not None:
        total = min(total, spec.max_requests)

    async def fire(index: int, scheduled: float) -> None:
        run.records.append(await _one(session, spec, index, scheduled))

    for index in range(total):
        scheduled = run.started + index / spec.rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(inflight) >= spec.concurrency:
            run.skipped += 1  # the server is this far behind: count it, never queue unbounded
            continue
        task = asyncio.create_task(fire(index, scheduled))
        inflight.add(task)
        task.add_done_callback(inflight.discard)
    await asyncio.gather(*inflight)


async def run_load(spec: LoadSpec) -> Run:
    """Drive ``spec`` against its URL and return every record."""
    connector = aiohttp.TCPConnector(limit=spec.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=spec.timeout)
    headers = {"Content-Type": "application/json", **spec.headers}
    run = Run()
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:
        run.started = time.perf_counter()
        if spec.rate is None:
            await _closed_loop(session, spec, run)
        else:
            await _open_loop(session, spec, run)
        run.finished = time.perf_counter()
    return run


def _parse_args(argv: list[str] | None) -> tuple[LoadSpec, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="POST")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--body", default=None, help="JSON text; {i} becomes the request index")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None, help="open loop: requests/s")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=0.0, help="closed loop only")
    parser.add_argument("--records", type=Path, default=None, help="write JSON lines here")
    args = parser.parse_args(argv)
    headers = dict(h.split(": ", 1) for h in args.header)
    spec = LoadSpec(
        url=args.url,
        method=args.method,
        headers=headers,
        body=args.body,
        concurrency=args.concurrency,
        duration=args.duration,
        max_requests=args.max_requests,
        rate=args.rate,
        timeout=args.timeout,
        warmup=args.warmup,
    )
    return spec, args.records


def main(argv: list[str] | None = None) -> None:
    """Process entry point: run the load, print the JSON summary."""
    import uvloop

    spec, records_path = _parse_args(argv)
    run = uvloop.run(run_load(spec))
    if records_path is not None:
        with records_path.open("w", encoding="utf-8") as out:
            for r in run.records:
                out.write(json.dumps(r.__dict__) + "\n")
    print(json.dumps(run.summary(spec.warmup if spec.rate is None else 0.0)))


if __name__ == "__main__":
    main()
