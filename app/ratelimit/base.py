"""Types shared by the limiters: rules in, one decision out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

WINDOW_SECONDS = 60.0
REVOKED_MARKER_TTL_SECONDS = 3600


@dataclass(frozen=True)
class LimitRule:
    """A token bucket: ``limit`` units per minute, this request costs ``cost``."""

    key: str
    limit: int
    cost: int
    name: str


@dataclass(frozen=True)
class Decision:
    """Outcome of one check; ``remaining`` follows the order of the rules given."""

    allowed: bool
    revoked: bool
    retry_after: float
    remaining: tuple[int, ...]
    denied_rule: str | None = None


class RateLimiter(Protocol):
    """What the gateway needs from a limiter."""

    async def check(self, rules: Sequence[LimitRule], *, key_id: str | None = None) -> Decision:
        """Consume every rule's cost atomically, or none; also report key revocation."""
        ...

    async def mark_revoked(self, key_id: str) -> None:
        """Make ``key_id`` fail every later check, in every process sharing this limiter."""
        ...

    async def is_revoked(self, key_id: str) -> bool:
        """True when ``key_id`` was revoked (by any process sharing this limiter)."""
        ...

    async def ping(self) -> bool:
        """True when the backing store answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def rules_for(
    *,
    tenant_id: str,
    key_id: str | None,
    tenant_rpm: int,
    tenant_tpm: int,
    key_rpm: int,
    key_tpm: int,
    tokens: int,
) -> list[LimitRule]:
    """The four buckets an inference request draws from (key buckets only for API keys)."""
    rules = [
        LimitRule(f"rl:t:{tenant_id}:req", tenant_rpm, 1, "tenant requests per minute"),
        LimitRule(f"rl:t:{tenant_id}:tok", tenant_tpm, tokens, "tenant tokens per minute"),
    ]
    if key_id is not None:
        rules += [
            LimitRule(f"rl:k:{key_id}:req", key_rpm, 1, "key requests per minute"),
            LimitRule(f"rl:k:{key_id}:tok", key_tpm, tokens, "key tokens per minute"),
        ]
    return rules
