"""Memory soak: gateway and worker RSS under steady load must stay flat.

Open-loop load through the gateway (the worker completes every request) for
``--minutes``; RSS of both processes is sampled every 10 s. The verdict compares the
least-squares slope of the second half (after warm-up) with the noise allowance.

    .venv/bin/python -m bench.soak --minutes 10 --rate 8
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.procs import ROOT
from bench.procstat import load_average, rss_bytes
from bench.stack import MODEL, StackOptions, running_stack
from bench.stats import slope_per_minute
from bench.targets import Target, loadgen_argv

RESULTS = ROOT / "bench" / "results"
PLOT = ROOT / "docs" / "img" / "soak-rss.png"
SAMPLE_SECONDS = 10.0
FLAT_MB_PER_MINUTE = 0.5


def verdict(series: list[tuple[float, float]]) -> dict[str, Any]:
    """Slope (MB/min) of the second half and whether it is within the noise allowance."""
    half = series[len(series) // 2 :]
    slope = slope_per_minute(half)
    return {
        "start_mb": round(series[0][1], 1) if series else None,
        "end_mb": round(series[-1][1], 1) if series else None,
        "second_half_slope_mb_per_min": round(slope, 3),
        "flat": abs(slope) <= FLAT_MB_PER_MINUTE,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    options = StackOptions(workers=1, fake_latency=0.2, worker_env={"WORKER_CONCURRENCY": "64"})
    with running_stack(options, RESULTS / "tmp" / "soak") as stack:
        gateway, worker = stack.gateways[0][0], stack.workers[0]
        body = json.dumps({"prompt": "soak {i}", "model": MODEL})
        target = Target(
            "soak", f"{stack.gateway_url}/api/inference", gateway.pid, body, stack.headers()
        )
        argv = loadgen_argv(target, concurrency=128, duration=seconds, rate=args.rate, timeout=10)
        load = load_average()
        loadgen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        series: dict[str, list[tuple[float, float]]] = {"gateway": [], "worker": []}
        while loadgen.poll() is None and time.monotonic() - started < seconds + 60:
            now = time.monotonic() - started
            series["gateway"].append((now, rss_bytes(gateway.pid) / 2**20))
            series["worker"].append((now, rss_bytes(worker.pid) / 2**20))
            time.sleep(SAMPLE_SECONDS)  # sampling interval
        out, _ = loadgen.communicate(timeout=120)
    summary = json.loads(out.decode().strip().splitlines()[-1])
    result = {
        "minutes": args.minutes,
        "rate": args.rate,
        "load_average_before": [round(x, 2) for x in load],
        "load": {
            k: summary[k] for k in ("requests", "ok", "statuses", "timeouts", "ok_per_second")
        },
        "gateway": verdict(series["gateway"]),
        "worker": verdict(series["worker"]),
        "series_mb": series,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    from bench.plots import series_plot

    title = f"RSS during a {args.minutes:g}-minute soak at {args.rate:g} req/s"
    series_plot(series, args.plot, ylabel="RSS (MiB)", title=title)
    print(json.dumps({k: v for k, v in result.items() if k != "series_mb"}, indent=2))


if __name__ == "__main__":
    main()
