"""Worker throughput: jobs/s of one poller vs the Little's-law limit (concurrency/latency).

One ``python -m app.worker.runtime`` process (WORKER_CONCURRENCY=64) against the fake
provider with a fixed latency; a feeder keeps a bounded backlog (the emulator slows as
its queue fills) and the run reports jobs/s, worker CPU/job and the emulator's CPU share
(near 1.0 means the emulator, single-threaded by its GIL, is the bottleneck).

    .venv/bin/python -m bench.worker_bench --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.errors import HarnessError
from bench.feeder import feed, job_rows, status_counts
from bench.procs import ROOT, free_port
from bench.procstat import CpuMeter, MachineMeter, load_average
from bench.stack import DEFAULT_INTERRUPTED_CALLS, Stack, StackOptions, running_stack

RESULTS = ROOT / "bench" / "results"
# A sample belongs to the operation of its innermost frame in our code (app/...), so
# libraries several operations share (aiohttp carries the provider calls and the AWS
# calls) are charged to whoever called them; logging libraries are charged to logging.
LOGGING_FRAMES = ("/structlog/", "/logging/", "/app/logging.py")
WORKER_RULES = (
    ("provider call (app/providers, HTTP)", ("/app/providers/",)),
    ("archive (S3 put)", ("/app/archive/",)),
    ("database (claim/complete/usage)", ("/app/worker/store.py", "/app/usage/")),
    ("SQS (receive/delete/visibility)", ("/app/worker/poller.py", "/app/worker/deletes.py")),
    ("completion notification (Redis)", ("/app/notify.py",)),
    # The process entry point is the root of every stack: below it is the event loop.
    ("event loop / other", ("/app/worker/runtime.py",)),
    ("worker core", ("/app/worker/", "/app/tracing.py")),
)
OTHER = "event loop / other"
WARMUP_TIMEOUT = 180.0
BACKLOG_PER_SLOT = 5


async def _clients(stack: Stack) -> tuple[Any, Any, Any]:
    from contextlib import AsyncExitStack

    from app.aws import aio_session, client_kwargs
    from app.db.engine import create_engine_for
    from app.settings import Settings

    exits = AsyncExitStack()
    engine = create_engine_for(stack.database_url)
    exits.push_async_callback(engine.dispose)
    kwargs = client_kwargs(Settings(aws_endpoint_url=stack.env["AWS_ENDPOINT_URL"]))
    sqs = await exits.enter_async_context(aio_session().create_client("sqs", **kwargs))
    return exits, engine, sqs


def _worker_counters(metrics_port: int | None) -> dict[str, float]:
    """Provider calls (count, seconds) and garbage collections so far, from /metrics."""
    counters = {"calls": 0.0, "call_seconds": 0.0, "gc_pause_seconds": 0.0, "gc_cpu_seconds": 0.0}
    counters |= {f"gc_collections_gen{g}": 0.0 for g in range(3)}
    if metrics_port is None:
        return counters
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    names = {
        "agatha_worker_provider_latency_seconds_count": "calls",
        "agatha_worker_provider_latency_seconds_sum": "call_seconds",
        "agatha_worker_gc_pause_seconds_total": "gc_pause_seconds",
        "agatha_worker_gc_cpu_seconds_total": "gc_cpu_seconds",
    }
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in names:
                counters[names[sample.name]] += sample.value
            elif sample.name == "agatha_worker_gc_collections_total":
                counters[f"gc_collections_gen{sample.labels['generation']}"] += sample.value
    return counters


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


async def _completed(engine: Any) -> int:
    return (await status_counts(engine)).get("completed", 0)


async def _settled(engine: Any, timeout: float) -> int:
    """Completed jobs once no job is pending or processing (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    counts = await status_counts(engine)
    while counts.get("pending", 0) + counts.get("processing", 0):
        if time.monotonic() >= deadline:
            raise HarnessError(
                f"jobs from before the drive are still in flight after {timeout:.0f} s: "
                f"{counts}; start the drive on an idle stack"
            )
        await asyncio.sleep(0.25)  # polling the database, bounded by ``timeout``
        counts = await status_counts(engine)
    return counts.get("completed", 0)


async def _wait_for(engine: Any, target: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    done = await _completed(engine)
    while done < target and time.monotonic() < deadline:
        await asyncio.sleep(0.25)  # polling the database, bounded by ``timeout``
        done = await _completed(engine)
    return done


def _start_spy(stack: Stack, duration: float, path: Path | None) -> Any:
    if path is None:
        return None
    import subprocess

    from bench.profile_gateway import py_spy

    argv = [py_spy(), "record", "-p", str(stack.workers[0].pid), "-d", str(int(duration))]
    argv += ["-r", "200", "-f", "raw", "-o", str(path), "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def classify(stack: str) -> str:
    """The operation of a collapsed py-spy stack ('f (file:line);g (file:line)')."""
    for frame in reversed(stack.split(";")):
        where = "/" + frame[frame.rfind("(") + 1 :]
        if any(fragment in where for fragment in LOGGING_FRAMES):
            return "logging"
        for category, fragments in WORKER_RULES:
            if any(fragment in where for fragment in fragments):
                return category
    return OTHER


def breakdown(raw: str, *, cpu_ms_per_job: float) -> list[dict[str, Any]]:
    """Share of samples and CPU ms/job per operation from py-spy's raw output."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[classify(stack)] += int(count)
    total = sum(counts.values()) or 1
    return [
        {
            "operation": name,
            "samples": n,
            "share": round(n / total, 4),
            "cpu_ms_per_request": round(cpu_ms_per_job * n / total, 4),
        }
        for name, n in counts.most_common()
    ]


def _split(spy: Any, path: Path | None, cpu_ms: float) -> dict[str, Any]:
    if spy is None or path is None:
        return {}
    spy.wait(timeout=120)
    # py-spy may cut a frame name mid-character when it samples a running thread.
    return {"profile": breakdown(path.read_text(errors="replace"), cpu_ms_per_job=cpu_ms)}


async def drive(
    stack: Stack,
    *,
    duration: float,
    backlog: int,
    tag: str,
    profile: Path | None = None,
    metrics_port: int | None = None,
) -> dict[str, Any]:
    """Warm up, then keep ``backlog`` jobs queued for ``duration`` s; count completions."""
    exits, engine, sqs = await _clients(stack)
    queue = stack.env["QUEUE_URL"]
    async with exits:
        # On a shared stack (the smoke tests) earlier jobs may still be in flight: wait
        # until none is, so every completion counted from here on is this drive's.
        before = await _settled(engine, WARMUP_TIMEOUT)
        await feed(engine, sqs, queue, job_rows(stack.tenant_id, 64, tag=f"{tag}-warm"))
        if await _wait_for(engine, before + 64, WARMUP_TIMEOUT) < before + 64:
            raise HarnessError(
                f"worker did not complete 64 warm-up jobs; see {stack.workers[0].log}"
            )
        worker = CpuMeter(stack.workers[0].pid)
        moto = CpuMeter(stack.moto.pid if stack.moto else 0)
        sent, start_done = before + 64, await _completed(engine)
        spy = _start_spy(stack, duration, profile)
        # The other processes on the job's path, so the bottleneck can be named.
        fake = CpuMeter(stack.fake.pid if stack.fake else 0)
        postgres = CpuMeter(stack.pg.pid, tree=True)
        machine = MachineMeter()
        counters_before = _worker_counters(metrics_port)
        machine.start()
        worker.start()
        moto.start()
        fake.start()
        postgres.start()
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            done = await _completed(engine)
            gap = backlog - (sent - done)
            if gap >= 10:
                sent += await feed(engine, sqs, queue, job_rows(stack.tenant_id, gap, tag=tag))
            await asyncio.sleep(0.2)  # feeder tick
        end_done = await _completed(engine)
        worker.stop()
        moto.stop()
        fake.stop()
        postgres.stop()
        machine.stop()
        counters_after = _worker_counters(metrics_port)
        delta = {name: counters_after[name] - counters_before[name] for name in counters_after}
        calls, call_seconds = delta["calls"], delta["call_seconds"]
        jobs = end_done - start_done
        split = _split(spy, profile, worker.ms_per(jobs))
        return split | {
            "jobs_completed": jobs,
            "wall_seconds": round(worker.wall_used, 2),
            "jobs_per_second": round(jobs / worker.wall_used, 1),
            "worker_cpu_ms_per_job": round(worker.ms_per(jobs), 3),
            "worker_cpu_share": round(worker.cpu_used / worker.wall_used, 3),
            "emulator_cpu_share": round(moto.cpu_used / moto.wall_used, 3),
            "fake_provider_cpu_share": round(fake.cpu_used / fake.wall_used, 3),
            "postgres_cpu_share": round(postgres.cpu_used / postgres.wall_used, 3),
            # Every process on the machine (PostgreSQL, fake provider, feeder, others too).
            "machine_busy_cores": round(machine.busy_cores, 2),
            "machine_stolen_cores": round(machine.stolen_cores, 2),
            "machine_cores": os.cpu_count(),
            # As the worker timed them: the fake's latency plus HTTP and event-loop waits.
            "provider_call_ms_mean": round(call_seconds / calls * 1000, 1) if calls else None,
            # Garbage collection in the worker (GC_GEN0_THRESHOLD, app/gc_tuning.py): its CPU
            # as a share of the worker's, the loop's stall per second, collections/s.
            "gc_cpu_share_of_worker_cpu": _share(delta["gc_cpu_seconds"], worker.cpu_used),
            "gc_pause_ms_per_second": round(delta["gc_pause_seconds"] / worker.wall_used * 1e3, 1),
            "gc_collections_per_second": [
                round(delta[f"gc_collections_gen{g}"] / worker.wall_used, 2) for g in range(3)
            ],
            "statuses_at_end": await status_counts(engine),
        }


def run_case(
    *,
    latency: float,
    concurrency: int,
    duration: float,
    archive: bool,
    profile: bool = False,
    prefetch: int | None = None,
    backlog: int | None = None,
    interrupted_calls: str = DEFAULT_INTERRUPTED_CALLS,
) -> dict[str, Any]:
    # Jobs sent and not completed: the worker holds up to 2 x concurrency + prefetch of
    # them (app/worker/poller.py), and the queue must not run dry between feeder ticks.
    backlog = backlog or concurrency * BACKLOG_PER_SLOT
    metrics_port = free_port()
    worker_env = {
        "WORKER_CONCURRENCY": str(concurrency),
        "WORKER_POLL_WAIT_SECONDS": "1",
        "WORKER_METRICS_PORT": str(metrics_port),
        "WORKER_INTERRUPTED_CALLS": interrupted_calls,
    }
    if prefetch is not None:
        worker_env["WORKER_PREFETCH"] = str(prefetch)
    if not archive:
        worker_env["ARCHIVE_BUCKET"] = ""
    options = StackOptions(gateways=0, workers=1, fake_latency=latency, worker_env=worker_env)
    with running_stack(options, RESULTS / "tmp" / "worker") as stack:
        load = load_average()
        spy_path = RESULTS / "tmp" / f"worker-pyspy-{archive}.txt" if profile else None
        result = asyncio.run(
            drive(
                stack,
                duration=duration,
                backlog=backlog,
                tag="wb",
                profile=spy_path,
                metrics_port=metrics_port,
            )
        )
        result["provider"] = stack.fake_stats()
    limit = concurrency / latency
    return {
        "concurrency": concurrency,
        "prefetch": prefetch,
        "backlog": backlog,
        "worker_interrupted_calls": interrupted_calls,
        "provider_latency_s": latency,
        "archive_to_s3": archive,
        "littles_law_limit_jobs_per_s": round(limit, 1),
        "fraction_of_limit": round(result["jobs_per_second"] / limit, 3),
        "load_average_before": [round(x, 2) for x in load],
        **result,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS / "worker.json")
    parser.add_argument("--profile", action="store_true", help="py-spy the worker (CPU split)")
    parser.add_argument("--prefetch", type=int, default=None, help="WORKER_PREFETCH override")
    parser.add_argument(
        "--backlog",
        type=int,
        default=None,
        help=f"jobs kept sent and not completed (default: {BACKLOG_PER_SLOT} x concurrency)",
    )
    parser.add_argument(
        "--archive", choices=("both", "on", "off"), default="both", help="cases to run"
    )
    parser.add_argument(
        "--interrupted-calls",
        choices=("retry", "fail"),
        default=DEFAULT_INTERRUPTED_CALLS,
        help="WORKER_INTERRUPTED_CALLS ('fail': the claim waits for a call slot and marks the"
        f" call; default: the worker's own, {DEFAULT_INTERRUPTED_CALLS})",
    )
    args = parser.parse_args(argv)
    cases = [
        run_case(
            latency=args.latency,
            concurrency=args.concurrency,
            duration=args.duration,
            archive=archive,
            profile=args.profile,
            prefetch=args.prefetch,
            backlog=args.backlog,
            interrupted_calls=args.interrupted_calls,
        )
        for archive in {"both": (True, False), "on": (True,), "off": (False,)}[args.archive]
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"cases": cases}, indent=2))
    print(json.dumps(cases, indent=2))


if __name__ == "__main__":
    main()
