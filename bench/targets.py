"""Measure one HTTP target: CPU of its server process per request, throughput, latency.

The load generator runs as its own process (``bench.loadgen``); the target's CPU comes
from ``/proc/<pid>/stat`` read just before and after the measured run.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import HarnessError
from bench.procs import PYTHON
from bench.procstat import CpuMeter, load_average

LOADGEN_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class Target:
    """An endpoint and the process that serves it."""

    name: str
    url: str
    pid: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    tree: bool = False


def loadgen_argv(
    target: Target,
    *,
    concurrency: int,
    duration: float,
    rate: float | None = None,
    timeout: float = 30.0,
    records: Path | None = None,
) -> list[str]:
    """The command line running ``bench.loadgen`` against ``target``."""
    argv = [PYTHON, "-m", "bench.loadgen", "--url", target.url, "--body", target.body]
    argv += ["--concurrency", str(concurrency), "--duration", str(duration)]
    argv += ["--timeout", str(timeout)]
    for name, value in target.headers.items():
        argv += ["--header", f"{name}: {value}"]
    if rate is not None:
        argv += ["--rate", str(rate)]
    if records is not None:
        argv += ["--records", str(records)]
    return argv


def run_loadgen(argv: list[str], *, duration: float) -> dict[str, Any]:
    """Run the load generator to completion and parse its JSON summary."""
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration + LOADGEN_GRACE_SECONDS, check=False
    )
    if result.returncode != 0:
        raise HarnessError(f"load generator failed:\n{result.stderr[-1500:]}")
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


def measure(
    target: Target, *, concurrency: int, duration: float, rate: float | None = None
) -> dict[str, Any]:
    """One measured run: the load summary plus the server's CPU per successful request."""
    meter = CpuMeter(target.pid, tree=target.tree)
    load_before = load_average()
    meter.start()
    summary = run_loadgen(
        loadgen_argv(target, concurrency=concurrency, duration=duration, rate=rate),
        duration=duration,
    )
    meter.stop()
    return {
        "target": target.name,
        "concurrency": concurrency,
        "offered_rate": rate,
        **summary,
        "server_cpu_seconds": round(meter.cpu_used, 3),
        "cpu_ms_per_ok": round(meter.ms_per(summary["ok"]), 4),
        "server_cpu_share": round(meter.cpu_used / max(meter.wall_used, 1e-9), 3),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_average()],
    }


def warm_up(target: Target, *, seconds: float = 2.0, concurrency: int = 32) -> None:
    """Unmeasured traffic first: imports, pools and caches fill before the clock starts.

    Run it at the measured concurrency: warmed at 8, a gateway opened its other ~24
    database connections (~1-2 ms of CPU each) inside the measured window.
    """
    run_loadgen(loadgen_argv(target, concurrency=concurrency, duration=seconds), duration=seconds)
