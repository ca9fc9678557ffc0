"""Freezing the start-up heap out of garbage collection (app/gc_tuning.py)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from app.gc_tuning import DEFAULT_GEN0_THRESHOLD, GcPauses, tune_after_startup
from app.worker.config import WorkerSettings
from app.worker.metrics import WorkerMetrics
from app.worker.runtime import tune_gc


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    """Each test leaves the test process's collector as it found it."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tuning_freezes_live_objects_and_raises_the_young_threshold() -> None:
    survivor = {"kept": [object() for _ in range(100)]}
    _, gen1, gen2 = gc.get_threshold()

    tuning = tune_after_startup(12_345)

    assert tuning is not None
    assert gc.get_threshold() == (12_345, gen1, gen2) == tuning.thresholds
    # Everything alive (this test's objects included) now sits outside every collection.
    assert tuning.frozen_objects == gc.get_freeze_count() > 1000
    assert gc.is_tracked(survivor) and survivor["kept"]


class _Node:
    """A weak-referenceable object to build a garbage cycle with."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def test_garbage_from_startup_is_collected_not_frozen() -> None:
    gc.disable()  # nothing may collect the cycle before tune_after_startup does
    try:
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        probe = weakref.ref(first)
        del first, second
        assert probe() is not None

        tune_after_startup(5_000)
    finally:
        gc.enable()

    assert probe() is None


def test_zero_leaves_the_collector_alone() -> None:
    before = gc.get_threshold()

    assert tune_after_startup(0) is None

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="0 \\(off\\) or positive"):
        tune_after_startup(-1)


def test_worker_setting_defaults_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    assert WorkerSettings().gc_gen0_threshold == DEFAULT_GEN0_THRESHOLD
    monkeypatch.setenv("GC_GEN0_THRESHOLD", "0")
    assert WorkerSettings().gc_gen0_threshold == 0
    monkeypatch.setenv("GC_GEN0_THRESHOLD", "-5")
    with pytest.raises(ValidationError, match="gc_gen0_threshold"):
        WorkerSettings()


def test_tune_gc_applies_the_worker_setting_and_logs_it() -> None:
    with capture_logs() as logs:
        tune_gc(WorkerSettings(gc_gen0_threshold=30_000))

    assert gc.get_threshold()[0] == 30_000
    [event] = [e for e in logs if e["event"] == "worker.gc_tuned"]
    assert event["thresholds"][0] == 30_000
    assert event["frozen_objects"] > 1000


def test_tune_gc_off_logs_nothing() -> None:
    before = gc.get_threshold()
    with capture_logs() as logs:
        tune_gc(WorkerSettings(gc_gen0_threshold=0))

    assert gc.get_threshold() == before
    assert not [e for e in logs if e["event"] == "worker.gc_tuned"]


def test_gc_pauses_time_each_collection_while_started() -> None:
    pauses = GcPauses()
    pauses.start()
    pauses.start()  # idempotent: one callback, not two
    try:
        gc.collect()
        assert pauses.collections[2] == 1
        assert pauses.seconds[2] > 0
    finally:
        pauses.stop()
    gc.collect()
    assert pauses.collections[2] == 1
    assert pauses._callback not in gc.callbacks


def test_worker_metrics_expose_gc_pauses_by_generation() -> None:
    metrics = WorkerMetrics()
    metrics.gc_pauses.start()
    try:
        gc.collect()
    finally:
        metrics.gc_pauses.stop()

    labels = {"generation": "2"}
    seconds = metrics.registry.get_sample_value("agatha_worker_gc_pause_seconds_total", labels)
    count = metrics.registry.get_sample_value("agatha_worker_gc_collections_total", labels)
    assert count == 1
    assert seconds is not None and seconds == metrics.gc_pauses.seconds[2] > 0
