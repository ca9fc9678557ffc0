"""The accept path's CPU per request in-process: the real app, driven through ASGI.

The gateway bench measures the gateway process under HTTP load while the load
generator, PostgreSQL, Redis and the emulator share the two cores, so its figure moves
with the machine's load. This one runs the same app (``create_app``, lifespan entered,
PostgreSQL + Redis + the emulator of a private stack) inside this process and calls it
as uvicorn would, ``--concurrency`` requests at a time, without sockets to the client:
this process's CPU per accepted request is the gateway's code (uvicorn's HTTP parsing
excluded). Stable enough to compare two builds back to back; ``--profile`` adds a
cProfile table of where the time goes.

    .venv/bin/python -m bench.accept_inprocess --requests 3000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import time
from pathlib import Path
from typing import Any

from bench.procs import ROOT
from bench.procstat import load_average
from bench.stack import StackOptions, running_stack

BODY = json.dumps(
    {"prompt": "Summarise the plot of Hamlet in one line.", "model": "gpt-4o-mini"}
).encode()
WARMUP = 300


def _scope(token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/inference",
        "raw_path": b"/api/inference",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _call(app: Any, token: str) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(token), receive, send)
    return status


async def _drive(app: Any, token: str, requests: int, concurrency: int) -> list[int]:
    remaining = iter(range(requests))
    statuses: list[int] = []

    async def lane() -> None:
        for _ in remaining:
            statuses.append(await _call(app, token))

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return statuses


async def measure(
    env: dict[str, str], token: str, requests: int, concurrency: int, profile: bool
) -> dict[str, Any]:
    """Requests through the app in this process; CPU of this process per 202."""
    from app.gateway.app import create_app
    from app.settings import Settings

    fields = {k.lower(): v for k, v in env.items() if k.lower() in Settings.model_fields}
    app = create_app(Settings(**fields))
    async with app.router.lifespan_context(app):
        await _drive(app, token, WARMUP, concurrency)
        profiler = cProfile.Profile() if profile else None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        statuses = await _drive(app, token, requests, concurrency)
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    accepted = statuses.count(202)
    result: dict[str, Any] = {
        "requests": requests,
        "concurrency": concurrency,
        "accepted": accepted,
        "other_statuses": sorted({s for s in statuses if s != 202}),
        "cpu_ms_per_accepted": round(cpu / max(1, accepted) * 1000, 4),
        "accepted_per_second": round(accepted / wall, 1),
    }
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        result["profile_top_tottime"] = out.getvalue().splitlines()
    return result


def main(argv: list[str] | None = None) -> None:
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the median is reported")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    options = StackOptions(gateways=0, log_level="INFO")
    with running_stack(options, ROOT / "bench" / "results" / "tmp" / "inprocess") as stack:
        before = load_average()
        runs = [
            uvloop.run(
                measure(stack.env, stack.token, args.requests, args.concurrency, args.profile)
            )
            for _ in range(args.repeat)
        ]
    cpu = sorted(run["cpu_ms_per_accepted"] for run in runs)
    report = {
        "cpu_ms_per_accepted_median": cpu[len(cpu) // 2],
        "cpu_ms_per_accepted_runs": [run["cpu_ms_per_accepted"] for run in runs],
        "load_average_before": before,
        "load_average_after": load_average(),
        "runs": runs,
    }
    text = json.dumps(report, indent=2)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
