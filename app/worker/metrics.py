"""Prometheus metrics of the worker, registered on a registry the caller owns."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from app.gc_tuning import GcPauses

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)
LAG_BUCKETS = (0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)


class WorkerMetrics:
    """processed/failed/retried counters, provider latency and queue lag histograms.

    ``gc_pauses`` counts garbage-collection pauses once started (the poller starts it).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.processed = Counter(
            "agatha_worker_jobs_processed",
            "Jobs handled, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.failed = Counter(
            "agatha_worker_jobs_failed",
            "Requests marked failed, by error code",
            ["error_code"],
            registry=self.registry,
        )
        self.retried = Counter(
            "agatha_worker_provider_retries",
            "Provider calls retried after a transient error",
            ["provider", "error_code"],
            registry=self.registry,
        )
        self.provider_latency = Histogram(
            "agatha_worker_provider_latency_seconds",
            "Provider call time including retries",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_lag = Histogram(
            "agatha_worker_queue_lag_seconds",
            "Time from enqueue (SentTimestamp) to pickup",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.gc_pauses = GcPauses()
        self.registry.register(GcPauseCollector(self.gc_pauses))

    def count(self, name: str, **labels: str) -> float:
        """Current value of a counter sample (tests and the status command read it)."""
        value = self.registry.get_sample_value(f"{name}_total", labels)
        return value or 0.0


class GcPauseCollector(Collector):
    """Exposes ``GcPauses`` (wall and CPU seconds, collections, per generation) at scrape time."""

    def __init__(self, pauses: GcPauses) -> None:
        self._pauses = pauses

    def collect(self) -> Iterator[CounterMetricFamily]:
        pauses = self._pauses
        families = (
            (
                "agatha_worker_gc_pause_seconds",
                "Wall time the garbage collector stopped the worker process, by generation",
                pauses.seconds,
            ),
            (
                "agatha_worker_gc_cpu_seconds",
                "CPU time the worker process spent collecting garbage, by generation",
                pauses.cpu_seconds,
            ),
            (
                "agatha_worker_gc_collections",
                "Garbage collections in the worker process, by generation",
                pauses.collections,
            ),
        )
        for name, documentation, values in families:
            family = CounterMetricFamily(name, documentation, labels=["generation"])
            for generation, value in enumerate(values):
                family.add_metric([str(generation)], value)
            yield family
