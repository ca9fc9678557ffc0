"""PNG plots for docs/ (matplotlib, headless Agg backend)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def latency_vs_load(sweep: Sequence[dict[str, Any]], path: Path) -> Path:
    """p50 (solid) and p99 (dashed) latency against offered load, one colour per target."""
    plt = _pyplot()
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for point in sweep:
        series[point["target"]].append(point)
    figure, axes = plt.subplots(figsize=(8, 5), dpi=110)
    for index, (name, points) in enumerate(series.items()):
        points.sort(key=lambda p: p["offered_rate"])
        rates = [p["offered_rate"] for p in points]
        colour = f"C{index}"
        p50 = [p["latency_all"]["p50_ms"] for p in points]
        p99 = [p["latency_all"]["p99_ms"] for p in points]
        axes.plot(rates, p50, "o-", color=colour, label=f"{name} p50")
        axes.plot(rates, p99, "s--", color=colour, alpha=0.7, label=f"{name} p99")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("offered load (requests/s, open loop)")
    axes.set_ylabel("latency (ms, from scheduled start)")
    axes.set_title("Latency vs offered load (2 shared cores, busy machine)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def series_plot(
    points: Mapping[str, Sequence[tuple[float, float]]], path: Path, *, ylabel: str, title: str
) -> Path:
    """Lines of (seconds, value) per name (the soak's RSS over time)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 4), dpi=110)
    for name, values in points.items():
        axes.plot([v[0] for v in values], [v[1] for v in values], label=name)
    axes.set_xlabel("seconds")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
