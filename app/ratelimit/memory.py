"""In-memory token-bucket limiter (embedded default, one process)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from app.ratelimit.base import WINDOW_SECONDS, Decision, LimitRule

MAX_BUCKETS = 100_000


class MemoryRateLimiter:
    """Same semantics as the Redis script; state lives in this object only."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._revoked: set[str] = set()

    async def check(self, rules: Sequence[LimitRule], *, key_id: str | None = None) -> Decision:
        """Consume every rule's cost or none (no await inside: atomic in asyncio)."""
        if key_id is not None and key_id in self._revoked:
            return Decision(allowed=False, revoked=True, retry_after=0.0, remaining=())
        now = self._clock()
        levels = [self._level(rule, now) for rule in rules]
        wait, denied = 0.0, None
        for rule, level in zip(rules, levels, strict=True):
            if level < rule.cost:
                rate = rule.limit / WINDOW_SECONDS
                needed = (rule.cost - level) / rate if rule.cost <= rule.limit else WINDOW_SECONDS
                if needed > wait:
                    wait, denied = needed, rule.name
        if denied is not None:
            remaining = tuple(int(level) for level in levels)
            return Decision(False, False, wait, remaining, denied)
        if len(self._buckets) > MAX_BUCKETS:
            # Bound memory: idle buckets are full anyway, so forgetting them is harmless.
            self._buckets.clear()
        for rule, level in zip(rules, levels, strict=True):
            self._buckets[rule.key] = (level - rule.cost, now)
        remaining = tuple(int(level - rule.cost) for rule, level in zip(rules, levels, strict=True))
        return Decision(True, False, 0.0, remaining)

    def _level(self, rule: LimitRule, now: float) -> float:
        level, at = self._buckets.get(rule.key, (float(rule.limit), now))
        return min(float(rule.limit), level + (now - at) * rule.limit / WINDOW_SECONDS)

    async def mark_revoked(self, key_id: str) -> None:
        """Reject the key from now on in this process."""
        self._revoked.add(key_id)

    async def is_revoked(self, key_id: str) -> bool:
        """True when this process revoked ``key_id``."""
        return key_id in self._revoked

    async def ping(self) -> bool:
        """Always reachable."""
        return True

    async def close(self) -> None:
        """Nothing to release."""
