"""Redis limiter: one Lua script per check, Redis TIME, all buckets all-or-nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from app.batching import GroupCommit
from app.errors import DependencyUnavailable
from app.ratelimit.base import REVOKED_MARKER_TTL_SECONDS, WINDOW_SECONDS, Decision, LimitRule

# KEYS[1] = revocation marker of the key (or a never-set key); KEYS[2..] = buckets.
# ARGV = window_ms, then (limit, cost) per bucket. Returns
# {allowed, revoked, retry_after_ms, denied_index, remaining...}.
CHECK_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 1, 0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local n = #KEYS - 1
local levels = {}
local wait, denied = 0, 0
for i = 1, n do
  local limit = tonumber(ARGV[2 * i]); local cost = tonumber(ARGV[2 * i + 1])
  local rate = limit / window
  local state = redis.call('HMGET', KEYS[i + 1], 'v', 't')
  local level = tonumber(state[1]) or limit
  local at = tonumber(state[2]) or now
  level = math.min(limit, level + math.max(0, now - at) * rate)
  levels[i] = level
  if level < cost then
    local needed = window
    if cost <= limit then needed = math.ceil((cost - level) / rate) end
    if needed > wait then wait = needed; denied = i end
  end
end
local out = {1, 0, 0, 0}
if denied > 0 then out = {0, 0, wait, denied} end
for i = 1, n do
  local cost = tonumber(ARGV[2 * i + 1])
  if denied == 0 then
    levels[i] = levels[i] - cost
    redis.call('HSET', KEYS[i + 1], 'v', tostring(levels[i]), 't', now)
    redis.call('PEXPIRE', KEYS[i + 1], window * 2)
  end
  out[4 + i] = math.floor(levels[i])
end
return out
"""

NO_KEY_MARKER = "rl:revoked:-"
# Checks per pipeline: bounds one reply's size and one parse's pause of the event loop.
MAX_PIPELINE = 64


def revoked_marker(key_id: str) -> str:
    """Redis key whose existence means the API key is revoked."""
    return f"rl:revoked:{key_id}"


class ScriptBatcher:
    """Runs one Lua script for many concurrent callers, grouped into pipelines.

    ``app.batching.GroupCommit`` with one pipeline in flight: idle, a check costs one
    round trip as before; under load one connection checkout, one write and one read
    serve a whole group (redis-py spends ~55 us of CPU per command on those). Each
    EVALSHA stays atomic on its own, so every caller's buckets are still checked
    all-or-nothing.
    """

    def __init__(self, client: Redis, script: str, *, max_batch: int = MAX_PIPELINE) -> None:
        self._client = client
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest()  # Redis's script id
        self._group: GroupCommit[tuple[list[Any], list[Any]], Any] = GroupCommit(
            self._send, max_batch=max_batch
        )

    async def run(self, keys: list[Any], args: list[Any]) -> Any:
        """The script's result for ``keys``/``args``; raises what Redis raised."""
        return await self._group.submit((keys, args))

    async def _send(self, calls: list[tuple[list[Any], list[Any]]]) -> list[Any]:
        results = await self._execute(calls)
        retry = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if retry:
            # Redis restarted or flushed its scripts: load it and run those again.
            await self._client.script_load(self._script)
            again = await self._execute([calls[i] for i in retry])
            for i, result in zip(retry, again, strict=True):
                results[i] = result
        return results

    async def _execute(self, calls: list[tuple[list[Any], list[Any]]]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(self._sha, len(keys), *keys, *args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        return results


class RedisRateLimiter:
    """Token buckets in Redis shared by every gateway process."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        self._checks = ScriptBatcher(client, CHECK_SCRIPT)

    async def check(self, rules: Sequence[LimitRule], *, key_id: str | None = None) -> Decision:
        """One EVALSHA (grouped with concurrent ones): revocation plus every bucket."""
        keys: list[Any] = [revoked_marker(key_id) if key_id else NO_KEY_MARKER]
        keys += [r.key for r in rules]
        args: list[Any] = [int(WINDOW_SECONDS * 1000)]
        for rule in rules:
            args += [rule.limit, rule.cost]
        try:
            out = await self._checks.run(keys, args)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable(
                f"rate limiter unavailable: {type(exc).__name__}", dependency="redis"
            ) from exc
        allowed, revoked, wait_ms, denied = (int(v) for v in out[:4])
        return Decision(
            allowed=bool(allowed),
            revoked=bool(revoked),
            retry_after=wait_ms / 1000.0,
            remaining=tuple(int(v) for v in out[4:]),
            denied_rule=rules[denied - 1].name if denied else None,
        )

    async def mark_revoked(self, key_id: str) -> None:
        """Set the marker every process's next check sees (outlives the key caches)."""
        try:
            await self._client.set(revoked_marker(key_id), "1", ex=REVOKED_MARKER_TTL_SECONDS)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable(
                f"rate limiter unavailable: {type(exc).__name__}", dependency="redis"
            ) from exc

    async def is_revoked(self, key_id: str) -> bool:
        """One EXISTS on the marker ``mark_revoked`` sets."""
        try:
            return bool(await self._client.exists(revoked_marker(key_id)))
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable(
                f"rate limiter unavailable: {type(exc).__name__}", dependency="redis"
            ) from exc

    async def ping(self) -> bool:
        """True when Redis answers PING."""
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
