"""Freezing the start-up heap out of garbage collection (app/gc_tuning.py)."""

from __future__ import annotations

import gc
import json
import sys
import weakref
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from app.gc_tuning import DEFAULT_GEN0_THRESHOLD, GcPauses, tune_after_startup
from app.logging import configure_logging
from app.providers.keys import ApiKeyResolver
from app.providers.registry import ProviderRegistry
from app.settings import Settings
from app.worker.config import WorkerSettings
from app.worker.metrics import WorkerMetrics
from app.worker.runtime import tune_gc


@pytest.fixture(autouse=True)
def no_provider_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for provider in ("OPENAI", "ANTHROPIC", "TOGETHER", "GOOGLE"):
        monkeypatch.delenv(f"{provider}_API_KEY", raising=False)
        monkeypatch.delenv(f"{provider}_SECRET_ARN", raising=False)


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
    # Everything alive (this test's objects included) now sits outside every collection,
    # and gc.get_objects() lists only what collections still walk.
    assert tuning.frozen_objects > 1000
    # A frozen object is still freed when its last reference goes, and the test process's
    # other threads may drop one meanwhile: the count can only have fallen, and barely.
    assert 0 <= tuning.frozen_objects - gc.get_freeze_count() < 100
    assert not any(obj is survivor for obj in gc.get_objects())
    gc.unfreeze()
    assert any(obj is survivor for obj in gc.get_objects())


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


def _factories(*names: str) -> dict[str, Any]:
    """Factories that must never run: import_adapters builds no client."""

    async def never() -> Any:
        raise AssertionError("import_adapters must not build a provider")

    return dict.fromkeys(names, never)


def _runtime(*keyed: str) -> Any:
    """Just enough of a WorkerRuntime for tune_gc: the registry and the keyed providers."""
    registry = ProviderRegistry(
        catalogue={"gpt-4o-mini": "openai", "local-echo": "local"},
        factories=_factories("openai", "anthropic", "local"),
    )
    return SimpleNamespace(core=SimpleNamespace(registry=registry), keyed_providers=list(keyed))


def test_tune_gc_imports_the_catalogued_adapters_freezes_and_logs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    # anthropic has a key but no model routes to it: its SDK stays unloaded.
    tune_gc(_runtime("anthropic", "openai"), WorkerSettings(gc_gen0_threshold=30_000))

    assert gc.get_threshold()[0] == 30_000
    # The adapter module (and the SDK it imports) was imported before the freeze.
    adapter = sys.modules["app.providers.openai"]
    assert not any(obj is adapter.__dict__ for obj in gc.get_objects())
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [event] = [e for e in events if e["event"] == "worker.gc_tuned"]
    assert event["thresholds"][0] == 30_000
    assert event["adapters"] == ["openai"]
    assert event["frozen_objects"] > 1000


def test_tune_gc_off_changes_nothing_and_logs_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    before = gc.get_threshold()

    tune_gc(_runtime("openai"), WorkerSettings(gc_gen0_threshold=0))

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert "worker.gc_tuned" not in capsys.readouterr().err


def test_registry_imports_only_catalogued_keyed_sdk_adapters() -> None:
    registry = ProviderRegistry(
        catalogue={"claude": "anthropic", "gpt": "openai", "echo": "local", "x": "unknown"},
        factories=_factories("anthropic", "openai", "local", "google"),
    )

    keyed = ["anthropic", "openai", "google", "local", "unknown"]
    assert registry.import_adapters(keyed) == ["anthropic", "openai"]
    assert "app.providers.anthropic" in sys.modules
    assert registry.import_adapters(["google"]) == []  # keyed but no model routes to it


def test_key_resolver_lists_providers_with_a_key_or_secret_configured() -> None:
    settings = Settings(
        openai_api_key="sk-test-key",
        together_secret_arn="arn:aws:secretsmanager:us-east-1:1:secret:t",
    )
    assert ApiKeyResolver.from_settings(settings).configured() == ["openai", "together"]


@pytest.fixture
def no_automatic_collections() -> Iterator[None]:
    """Only the test's own gc.collect() runs (it still fires the callbacks)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_automatic_collections")
def test_gc_pauses_time_each_collection_while_started() -> None:
    pauses = GcPauses()
    pauses.start()
    pauses.start()  # idempotent: one callback, not two
    try:
        gc.collect()
        assert pauses.collections == [0, 0, 1]
        assert pauses.seconds[2] > 0
        assert 0 <= pauses.cpu_seconds[2] <= pauses.seconds[2] + 0.01
    finally:
        pauses.stop()
    gc.collect()
    assert pauses.collections == [0, 0, 1]
    assert pauses._callback not in gc.callbacks


def test_a_stop_without_its_start_is_ignored() -> None:
    pauses = GcPauses()
    # As when the callback is registered while another thread's collection runs.
    pauses._callback("stop", {"generation": 2, "collected": 0, "uncollectable": 0})
    assert pauses.collections == [0, 0, 0]
    assert pauses.seconds == [0.0, 0.0, 0.0]


@pytest.mark.usefixtures("no_automatic_collections")
def test_worker_metrics_expose_gc_pauses_by_generation() -> None:
    metrics = WorkerMetrics()
    metrics.gc_pauses.start()
    try:
        gc.collect()
    finally:
        metrics.gc_pauses.stop()

    labels = {"generation": "2"}
    sample = metrics.registry.get_sample_value
    assert sample("agatha_worker_gc_collections_total", labels) == 1
    assert sample("agatha_worker_gc_collections_total", {"generation": "0"}) == 0
    seconds = sample("agatha_worker_gc_pause_seconds_total", labels)
    assert seconds is not None and seconds == metrics.gc_pauses.seconds[2] > 0
    cpu = sample("agatha_worker_gc_cpu_seconds_total", labels)
    assert cpu == metrics.gc_pauses.cpu_seconds[2]
