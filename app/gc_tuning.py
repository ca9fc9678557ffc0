"""Garbage-collector settings for the worker processes (the poller and the Lambda worker).

Once a process has started, its heap holds a few hundred thousand objects that live until
exit: botocore's service models and endpoint rules, the provider SDKs' modules and
pydantic schemas (imported before the freeze: ``ProviderRegistry.import_adapters``). With
CPython's default thresholds (700, 10, 10) the collector ran ~50 to 70 times a second on
the poller at concurrency 64, and each full collection walked all of them while the event
loop and 64 provider answers waited (docs/benchmarks.md, round 6). So, after start-up:

- ``gc.freeze()`` moves everything alive into the permanent generation, which no
  collection walks again. A frozen object is still freed when its last reference goes;
  only a frozen object that later becomes part of a garbage cycle stays, and start-up
  objects (clients, models, settings) live for the whole process anyway;
- a higher first-generation threshold collects young objects in bigger, rarer batches.

Reference cycles made while serving are still collected, just later; RSS stays flat (the
10-minute soak in docs/benchmarks.md). ``GC_GEN0_THRESHOLD=0`` leaves CPython's defaults.

The gateway does not call this: there collections are ~3% of its CPU and measured no
difference (docs/benchmarks.md, round 6).
"""

from __future__ import annotations

import gc
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

# Young objects allocated between first-generation collections (CPython's default is 700).
DEFAULT_GEN0_THRESHOLD = 20_000


@dataclass(frozen=True)
class GcTuning:
    """What ``tune_after_startup`` did, for the start-up log line."""

    frozen_objects: int
    thresholds: tuple[int, int, int]


def tune_after_startup(gen0_threshold: int) -> GcTuning | None:
    """Freeze the start-up heap and raise the young-generation threshold.

    Call once, when the process has built its clients and is about to serve. Returns
    None (and changes nothing) when ``gen0_threshold`` is 0.
    """
    if gen0_threshold < 0:
        raise ValueError(f"gen0_threshold must be 0 (off) or positive, got {gen0_threshold}")
    if gen0_threshold == 0:
        return None
    # Collect first so start-up garbage is freed rather than frozen for the process's life.
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
    return GcTuning(frozen_objects=gc.get_freeze_count(), thresholds=gc.get_threshold())


@dataclass
class GcPauses:
    """Time spent in the collector, per generation, from ``gc.callbacks``.

    ``seconds`` is wall time (how long the event loop stood still), ``cpu_seconds`` the
    collecting thread's CPU time (the wall figure also counts time the process was not
    scheduled). Plain counters, read at scrape time (app/worker/metrics.py): a collection
    can start inside any allocation, including one made while a metrics lock is held, so
    the callback itself must take no lock.
    """

    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    cpu_seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    _started: tuple[float, float] | None = field(default=None, init=False, repr=False)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = (time.perf_counter(), time.thread_time())
            return
        if self._started is None:
            return  # registered while a collection was running: no start to measure from
        wall, cpu = self._started
        self._started = None
        generation = info["generation"]
        self.seconds[generation] += time.perf_counter() - wall
        self.cpu_seconds[generation] += time.thread_time() - cpu
        self.collections[generation] += 1

    def start(self) -> None:
        """Begin timing collections (idempotent)."""
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def stop(self) -> None:
        """Stop timing collections."""
        with suppress(ValueError):
            gc.callbacks.remove(self._callback)
