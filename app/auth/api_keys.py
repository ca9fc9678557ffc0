"""API keys: generated once, stored as sha256 hashes, looked up through a short cache.

Revocation reaches every process at once through the rate limiter's revocation marker
(checked in the same Redis round trip as the limits); the cache TTL bounds staleness
where there is no shared limiter.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.auth.principal import Principal, Role
from app.caching import TtlCache
from app.errors import AuthenticationFailed

KEY_PREFIX = "agk_"
MAX_CACHE_ENTRIES = 50_000


@dataclass(frozen=True)
class GeneratedKey:
    """A new key: ``plaintext`` is shown once and never stored."""

    key_id: str
    plaintext: str
    key_hash: str
    prefix: str


def hash_key(plaintext: str) -> str:
    """sha256 hex of the key (keys are 256-bit random, so no salt/KDF is needed)."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def looks_like_api_key(token: str) -> bool:
    """API keys carry a fixed prefix; everything else is treated as a JWT."""
    return token.startswith(KEY_PREFIX)


def generate_key() -> GeneratedKey:
    """A fresh random key and its stored form."""
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    return GeneratedKey(
        key_id="key_" + secrets.token_hex(10),
        plaintext=plaintext,
        key_hash=hash_key(plaintext),
        prefix=plaintext[:12],
    )


class ApiKeyCache:
    """hash -> key row (or None) with a TTL; bounded so memory cannot grow unchecked."""

    def __init__(
        self,
        fetch: Callable[[str], Awaitable[dict[str, Any] | None]],
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        # Concurrent requests with one uncached key share a single lookup.
        self.cache: TtlCache[dict[str, Any] | None] = TtlCache(
            ttl, max_entries=MAX_CACHE_ENTRIES, clock=clock
        )

    async def authenticate(self, plaintext: str) -> Principal:
        """The key's principal; fails for unknown or revoked keys."""
        key_hash = hash_key(plaintext)
        row = await self.cache.get(key_hash, lambda: self._fetch(key_hash))
        if row is None or row["revoked"]:
            raise AuthenticationFailed("API key is unknown or revoked")
        return Principal(
            tenant_id=row["tenant_id"],
            subject=row["id"],
            role=Role(row["role"]),
            key_id=row["id"],
            key_requests_per_minute=row["requests_per_minute"],
        )

    def forget_all(self) -> None:
        """Drop every cached entry (this process revoked a key)."""
        self.cache.forget_all()
