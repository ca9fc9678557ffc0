"""Rate limiting: per tenant and per key, requests and tokens per minute, all-or-nothing.

``RedisRateLimiter`` (one Lua script per check, Redis TIME) makes N gateway processes
enforce exactly the configured limit; ``MemoryRateLimiter`` is the embedded default with
the same interface. Both also answer "is this API key revoked?" in the same round trip.
"""

from __future__ import annotations

from app.ratelimit.base import Decision, LimitRule, RateLimiter, rules_for
from app.ratelimit.memory import MemoryRateLimiter

__all__ = ["Decision", "LimitRule", "MemoryRateLimiter", "RateLimiter", "rules_for"]
