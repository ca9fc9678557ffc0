"""Prometheus metrics of the worker, registered on a registry the caller owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)
LAG_BUCKETS = (0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)


class WorkerMetrics:
    """processed/failed/retried counters, provider latency and queue lag histograms."""

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

    def count(self, name: str, **labels: str) -> float:
        """Current value of a counter sample (tests and the status command read it)."""
        value = self.registry.get_sample_value(f"{name}_total", labels)
        return value or 0.0
