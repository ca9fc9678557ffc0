"""Statistics helpers and /proc accounting used by every harness."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.procstat import CpuMeter, cpu_seconds, process_tree, rss_bytes
from bench.soak import verdict
from bench.stats import latency_summary, percentile, slope_per_minute


def test_percentile_uses_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_latency_summary_reports_milliseconds() -> None:
    summary = latency_summary([0.001, 0.002, 0.003])
    assert summary["p50_ms"] == 2.0
    assert summary["max_ms"] == 3.0


def test_slope_per_minute_of_a_growing_series() -> None:
    points = [(float(s), 100.0 + s / 60) for s in range(0, 600, 10)]
    assert abs(slope_per_minute(points) - 1.0) < 1e-9
    assert slope_per_minute(points[:1]) == 0.0


def test_soak_verdict_flags_growth_but_not_a_flat_series() -> None:
    flat = [(float(s), 120.0) for s in range(0, 600, 10)]
    growing = [(float(s), 120.0 + s / 30) for s in range(0, 600, 10)]
    assert verdict(flat)["flat"] is True
    assert verdict(growing)["flat"] is False


def test_cpu_meter_counts_only_the_measured_process() -> None:
    meter = CpuMeter(os.getpid())
    meter.start()
    total = sum(i * i for i in range(2_000_000))  # burn some CPU in this process
    meter.stop()
    assert total > 0
    assert meter.cpu_used > 0
    assert meter.ms_per(0) != meter.ms_per(0)  # NaN when nothing was done


def test_process_tree_includes_children_and_rss_is_positive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert child.pid in process_tree(os.getpid())
        assert cpu_seconds(child.pid) >= 0
        assert rss_bytes(os.getpid()) > 1_000_000
    finally:
        child.kill()
        child.wait(timeout=10)
