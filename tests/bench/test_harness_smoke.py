"""Every harness runs end to end on a tiny load against one real stack.

One stack for the module (private PostgreSQL + Redis, the emulator, the fake provider,
a uvicorn gateway and a worker process): ~30 s to start on a busy 2-core machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvloop

from bench.accept_inprocess import measure as accept_measure
from bench.bad_inputs import run_battery
from bench.drills import DRILL_WORKER_ENV, DRILLS, run_drill
from bench.e2e_bench import drive as e2e_drive
from bench.gateway_bench import gateway_target, queue_batch_stats
from bench.microbench import archive_ops, provider_answer_ops, provider_call_ops
from bench.stack import Stack, StackOptions, running_stack
from bench.targets import measure
from bench.worker_bench import drive as worker_drive

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log_dir: Path = tmp_path_factory.mktemp("bench-logs")
    # The drills' worker timings (short lease, visibility and reap interval), so a job
    # whose claim or completion a drill interrupts is retried within the drill's settle.
    options = StackOptions(
        workers=1, fake_latency=0.01, log_level="WARNING", worker_env=DRILL_WORKER_ENV
    )
    with running_stack(options, log_dir) as running:
        yield running


def test_gateway_measure_reports_cpu_per_accepted_request(stack: Stack) -> None:
    before = queue_batch_stats(stack.gateway_url)
    result = measure(gateway_target(stack), concurrency=2, duration=1.0)
    assert result["ok"] > 0
    assert result["statuses"].keys() == {"202"}
    assert result["cpu_ms_per_ok"] > 0
    after = queue_batch_stats(stack.gateway_url)
    assert after["messages"] - before["messages"] >= result["ok"]
    assert after["mean_batch"] >= 1
    assert after["mean_batch"] <= 10


def test_in_process_accept_measure_counts_accepted_requests(stack: Stack) -> None:
    result = uvloop.run(
        accept_measure(stack.env, stack.token, requests=20, concurrency=4, profile=True)
    )
    assert result["accepted"] == 20 and result["other_statuses"] == []
    assert result["cpu_ms_per_accepted"] > 0
    assert any("accept" in line for line in result["profile_top_tottime"])


def test_e2e_requests_complete_through_the_worker(stack: Stack) -> None:
    results = asyncio.run(e2e_drive(stack, requests=2, clients=1))
    assert [r["status"] for r in results] == [200, 200]


def test_bad_input_battery_stores_nothing_it_refuses(stack: Stack) -> None:
    result = asyncio.run(run_battery(stack))
    assert result["nothing_else_stored"] is True, {k: v for k, v in result.items() if k != "cases"}
    refused = [c for c in result["cases"] if c["status"] != 202]
    assert refused and all(400 <= c["status"] < 500 for c in refused)


def test_archive_microbench_times_both_put_paths(stack: Stack) -> None:
    rows = uvloop.run(archive_ops(stack, 5))  # raises if a signed put fell back
    assert [r["operation"] for r in rows] == ["archive put, S3 client", "archive put, signed"]
    assert all(r["n"] == 5 and r["cpu_us"] > 0 for r in rows)


def test_provider_answer_microbench_times_both_reads() -> None:
    rows = uvloop.run(provider_answer_ops(5))
    assert [r["operation"] for r in rows] == [
        "provider answer, SDK model",
        "provider answer, decoded JSON",
    ]
    assert all(r["n"] == 5 and r["cpu_us"] > 0 for r in rows)


def test_provider_call_microbench_times_the_adapter_and_the_reference(stack: Stack) -> None:
    latency = stack.fake_stats()["latency"]
    rows = uvloop.run(provider_call_ops(stack, 5))
    assert [r["operation"] for r in rows] == [
        "provider call, OpenAI SDK (app adapter)",
        "provider call, bare aiohttp POST (reference)",
    ]
    assert all(r["n"] == 5 and r["cpu_us"] > 0 for r in rows)
    assert stack.fake_stats()["latency"] == latency  # the fake's latency is restored


def test_worker_drive_counts_completed_jobs(stack: Stack) -> None:
    result = asyncio.run(worker_drive(stack, duration=1.0, backlog=16, tag="smoke"))
    assert result["jobs_completed"] > 0
    assert result["worker_cpu_ms_per_job"] > 0


def test_postgres_restart_drill_loses_nothing(stack: Stack) -> None:
    drill = next(d for d in DRILLS if d.name == "postgres-restart")
    result = run_drill(stack, drill, rate=4, duration=6, settle_timeout=60)
    assert result["accepted"] > 0
    assert result["lost"] == 0
    assert result["completed_not_archived"] == 0
    assert result["duplicated_provider_calls"] == 0
    assert result["client_timeouts (hangs)"] == 0
