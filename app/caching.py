"""A small TTL cache whose concurrent misses for one key share a single load.

The gateway caches tenant limits (app/gateway/state.py) and API-key rows
(app/auth/api_keys.py) for a few seconds. Without sharing, a cold gateway hit by a burst
ran one database query per waiting request for the same key: 60 requests at once opened
the whole pool and its overflow, three gateways went past PostgreSQL's connection limit,
and admitted requests got 503 (docs/reliability.md, round 10). Now the first miss loads
and the others await the same result; a failed load is not cached and reaches every
caller that shared it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

Value = TypeVar("Value")

DEFAULT_MAX_ENTRIES = 10_000


class TtlCache(Generic[Value]):
    """key -> value for ``ttl`` seconds, at most ``max_entries`` keys (cleared when full)."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[float, Value]] = {}
        self._loading: dict[str, asyncio.Future[Value]] = {}
        # Bumped by forget_all: a load that started before it answers but is not kept.
        self._generation = 0

    async def get(self, key: str, load: Callable[[], Awaitable[Value]]) -> Value:
        """The cached value of ``key``, or ``load()``'s, shared with concurrent misses."""
        cached = self._entries.get(key)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        pending = self._loading.get(key)
        # A load begun on another event loop (a test's earlier loop) cannot be awaited here.
        if pending is None or pending.get_loop() is not asyncio.get_running_loop():
            pending = asyncio.ensure_future(self._load(key, load))
            # Every caller may be gone when a load fails: its error is theirs, not the loop's.
            pending.add_done_callback(_retrieve)
            self._loading[key] = pending
        # Shielded: one caller going away (a client disconnect) does not cancel the load
        # the others wait on.
        return await asyncio.shield(pending)

    async def _load(self, key: str, load: Callable[[], Awaitable[Value]]) -> Value:
        # Expiry counts from the start of the load: a value read at t0 is at most ``ttl``
        # old when it is last served, however long the query took (the revocation bound).
        generation, this, started = self._generation, asyncio.current_task(), self.clock()
        try:
            value = await load()
        finally:
            if self._loading.get(key) is this:
                del self._loading[key]
        if generation == self._generation:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (started + self.ttl, value)
        return value

    def forget_all(self) -> None:
        """Drop every entry. Loads under way still answer the callers already waiting, but
        are not kept and later callers start a fresh load (a key just revoked)."""
        self._entries.clear()
        self._loading.clear()
        self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
