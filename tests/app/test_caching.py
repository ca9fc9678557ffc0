"""TtlCache: concurrent misses share one load; TTL, failures, cancellation, forget_all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from app.auth.api_keys import ApiKeyCache, generate_key
from app.caching import TtlCache
from app.db import accounts
from app.db.engine import create_engine_for
from app.gateway.state import TenantCache


class Loader:
    """Counts loads; each waits for ``release`` so callers pile up behind it."""

    def __init__(self, value: str = "v", error: Exception | None = None) -> None:
        self.calls = 0
        self.value = value
        self.error = error
        self.release = asyncio.Event()

    async def __call__(self) -> str:
        self.calls += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return f"{self.value}{self.calls}"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _started(*tasks: asyncio.Task[str]) -> None:
    """Let every task reach its await on the shared load."""
    for _ in range(5):
        await asyncio.sleep(0)
    assert not any(t.done() for t in tasks)


async def test_concurrent_misses_share_one_load() -> None:
    cache: TtlCache[str] = TtlCache(5.0)
    load = Loader()
    callers = [asyncio.ensure_future(cache.get("t1", load)) for _ in range(60)]
    await _started(*callers)
    load.release.set()
    assert await asyncio.gather(*callers) == ["v1"] * 60
    assert load.calls == 1


async def test_a_value_is_kept_for_its_ttl_then_loaded_again() -> None:
    clock = Clock()
    cache: TtlCache[str] = TtlCache(5.0, clock=clock)
    load = Loader()
    load.release.set()
    assert await cache.get("t1", load) == "v1"
    clock.now += 4.9
    assert await cache.get("t1", load) == "v1"
    clock.now += 0.2
    assert await cache.get("t1", load) == "v2"
    assert load.calls == 2


async def test_a_failed_load_reaches_every_sharer_and_is_not_cached() -> None:
    cache: TtlCache[str] = TtlCache(5.0)
    failing = Loader(error=ConnectionError("database down"))
    callers = [asyncio.ensure_future(cache.get("t1", failing)) for _ in range(3)]
    await _started(*callers)
    failing.release.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError] * 3
    assert failing.calls == 1
    working = Loader()
    working.release.set()
    assert await cache.get("t1", working) == "v1"  # loaded again, not the failure


async def test_a_caller_that_goes_away_does_not_cancel_the_shared_load() -> None:
    cache: TtlCache[str] = TtlCache(5.0)
    load = Loader()
    leaving = asyncio.ensure_future(cache.get("t1", load))
    staying = asyncio.ensure_future(cache.get("t1", load))
    await _started(leaving, staying)
    leaving.cancel()
    await asyncio.sleep(0)
    load.release.set()
    assert await staying == "v1"
    assert leaving.cancelled()
    assert load.calls == 1


async def test_forget_all_during_a_load_answers_its_callers_but_keeps_nothing() -> None:
    cache: TtlCache[str] = TtlCache(5.0)
    before = Loader(value="stale")
    waiting = asyncio.ensure_future(cache.get("k", before))
    await _started(waiting)
    cache.forget_all()  # e.g. this process revoked a key meanwhile
    after = Loader(value="fresh")
    after.release.set()
    # A caller after forget_all does not join the load that began before it.
    assert await asyncio.wait_for(cache.get("k", after), 5) == "fresh1"
    before.release.set()
    assert await asyncio.wait_for(waiting, 5) == "stale1"
    assert await cache.get("k", before) == "fresh1"  # the stale answer was not kept
    assert (before.calls, after.calls) == (1, 1)


async def test_a_load_from_before_forget_all_leaves_the_new_load_shared() -> None:
    cache: TtlCache[str] = TtlCache(5.0)
    before, after = Loader(value="stale"), Loader(value="fresh")
    stale = asyncio.ensure_future(cache.get("k", before))
    await _started(stale)
    cache.forget_all()
    first = asyncio.ensure_future(cache.get("k", after))
    await _started(first)
    before.release.set()  # the old load ends while the new one still runs ...
    assert await asyncio.wait_for(stale, 5) == "stale1"
    second = asyncio.ensure_future(cache.get("k", after))
    await _started(second)
    after.release.set()
    # ... and the caller after it joined the new load instead of starting a third.
    assert await asyncio.wait_for(asyncio.gather(first, second), 5) == ["fresh1"] * 2
    assert (before.calls, after.calls) == (1, 1)


async def test_expiry_counts_from_the_start_of_a_slow_load() -> None:
    clock = Clock()
    cache: TtlCache[str] = TtlCache(5.0, clock=clock)
    calls = 0

    async def slow_load() -> str:
        nonlocal calls
        calls += 1
        clock.now += 4.0  # the query took 4 s: the row it read is already 4 s old
        return f"v{calls}"

    started = clock.now
    assert await cache.get("k", slow_load) == "v1"
    clock.now = started + 4.9
    assert await cache.get("k", slow_load) == "v1"
    clock.now = started + 5.1  # ttl after the read, though only 1.1 s after it was kept
    assert await cache.get("k", slow_load) == "v2"


def test_a_load_left_on_a_closed_event_loop_does_not_break_the_next_loop() -> None:
    cache: TtlCache[str] = TtlCache(5.0)
    abandoned = Loader(value="old")
    left: list[asyncio.Future[str]] = []

    async def start_and_leave() -> None:
        left.append(asyncio.ensure_future(cache.get("k", abandoned)))
        for _ in range(3):
            await asyncio.sleep(0)

    first_loop = asyncio.new_event_loop()
    try:
        first_loop.run_until_complete(start_and_leave())
    finally:
        first_loop.close()  # its load never finished
    fresh = Loader(value="new")
    fresh.release.set()
    assert asyncio.run(cache.get("k", fresh)) == "new1"
    assert (abandoned.calls, fresh.calls) == (1, 1)
    assert not left[0].done()


async def test_a_full_cache_starts_over() -> None:
    cache: TtlCache[str] = TtlCache(5.0, max_entries=3)
    for key in "abc":
        assert await cache.get(key, _value(key)) == key
    assert len(cache) == 3
    assert await cache.get("d", _value("d")) == "d"
    assert len(cache) == 1


def _value(value: str) -> Callable[[], asyncio.Future[str]]:
    def load() -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        future.set_result(value)
        return future

    return load


@pytest.mark.parametrize("tenant", ["t_known", "t_unknown"])
async def test_a_burst_on_a_cold_tenant_cache_makes_one_query(
    sqlite_url: str, migrated_db: Callable[[str], str], tenant: str
) -> None:
    engine = create_engine_for(migrated_db(sqlite_url))
    try:
        await accounts.create_tenant(engine, tenant_id="t_known", name="Known")
        queries: list[str] = []
        event.listen(
            engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: queries.append(statement),
        )
        tenants = TenantCache(engine, 5.0)
        limits = await asyncio.gather(*(tenants.get(tenant) for _ in range(60)))
    finally:
        await engine.dispose()
    assert len(queries) == 1 and "tenants" in queries[0]
    if tenant == "t_known":
        assert {(x.tenant_id, x.requests_per_minute) for x in limits if x} == {("t_known", 600)}
        assert all(x is not None for x in limits)
    else:
        assert limits == [None] * 60


async def test_a_burst_with_one_uncached_api_key_makes_one_lookup() -> None:
    key = generate_key()
    looked_up: list[str] = []
    release = asyncio.Event()

    async def fetch(key_hash: str) -> dict[str, Any] | None:
        looked_up.append(key_hash)
        await release.wait()
        row = {"id": key.key_id, "tenant_id": "t1", "role": "user", "revoked": False}
        return {**row, "requests_per_minute": None}

    keys = ApiKeyCache(fetch, ttl=5.0)
    callers = [asyncio.ensure_future(keys.authenticate(key.plaintext)) for _ in range(30)]
    for _ in range(5):
        await asyncio.sleep(0)
    release.set()
    principals = await asyncio.gather(*callers)
    assert looked_up == [key.key_hash]
    assert {(p.tenant_id, p.key_id) for p in principals} == {("t1", key.key_id)}
