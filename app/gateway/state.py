"""The gateway's long-lived resources, opened in the lifespan and closed at shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.api_keys import ApiKeyCache
from app.auth.jwt import KeyRing
from app.caching import TtlCache
from app.db import accounts
from app.db.accounts import TenantLimits
from app.db.engine import create_engine_for, resolve_database_url, statement_lease_for
from app.db.requests import PendingInserts
from app.gateway.metrics import GatewayMetrics
from app.notify import Notifier, open_notifier
from app.queue.sender import BatchingSender
from app.ratelimit.base import RateLimiter
from app.settings import Settings

# Without a shared limiter (embedded default) revocation reaches other processes only
# through the key cache, so its TTL is capped at the 1 s the contract promises.
UNSHARED_KEY_CACHE_MAX_SECONDS = 1.0
# The accept path's insert holds a connection for one round trip (~0.3 ms), so a quarter
# of DATABASE_POOL_SIZE serves hundreds of requests/s; a gateway process opens at most
# pool + overflow + pool/4 connections (32 + 8 + 8 by default).
INSERT_LEASE_SHARE = 4


class TenantCache:
    """tenant id -> limits (or None for unknown) for ``ttl`` seconds; one query per miss."""

    def __init__(
        self, engine: AsyncEngine, ttl: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.cache: TtlCache[TenantLimits | None] = TtlCache(ttl, clock=clock)

    async def get(self, tenant_id: str) -> TenantLimits | None:
        """Cached limits of ``tenant_id`` (concurrent misses share one query)."""
        return await self.cache.get(
            tenant_id, lambda: accounts.get_tenant_limits(self.engine, tenant_id)
        )


@dataclass
class Gateway:
    """Everything a request handler needs; one per app instance."""

    settings: Settings
    engine: AsyncEngine
    # The accept path's inserts, grouped on bare asyncpg connections (None on SQLite).
    inserts: PendingInserts | None
    limiter: RateLimiter
    sender: BatchingSender
    keyring: KeyRing
    key_cache: ApiKeyCache
    tenants: TenantCache
    metrics: GatewayMetrics
    # Completion wake-ups for long-polls: Redis pub/sub, in-process, or a no-op.
    notifier: Notifier


async def _open_limiter(settings: Settings, stack: AsyncExitStack) -> RateLimiter:
    if not settings.uses_redis:
        from app.ratelimit.memory import MemoryRateLimiter

        return MemoryRateLimiter()
    from redis.asyncio import Redis

    from app.notify import redis_url
    from app.ratelimit.redis import RedisRateLimiter

    client: Any = Redis.from_url(await asyncio.to_thread(redis_url, settings))
    limiter = RedisRateLimiter(client)
    stack.push_async_callback(limiter.close)
    return limiter


async def _open_notifier(settings: Settings, stack: AsyncExitStack) -> Notifier:
    notifier: Notifier = await stack.enter_async_context(open_notifier(settings))
    return notifier


async def _open_sender(
    settings: Settings, stack: AsyncExitStack, metrics: GatewayMetrics
) -> BatchingSender:
    from botocore.config import Config

    from app.aws import aio_session, client_kwargs
    from app.errors import ConfigurationError

    if not settings.queue_url:
        raise ConfigurationError("QUEUE_URL is not set; the gateway cannot enqueue jobs")
    kwargs = client_kwargs(settings)
    # The sender builds every request itself (<= 10 entries, string bodies); botocore's
    # client-side re-validation of each SendMessageBatch is ~7% of the call's CPU, and
    # SQS still validates server-side.
    kwargs["config"] = kwargs["config"].merge(Config(parameter_validation=False))
    client = await stack.enter_async_context(aio_session().create_client("sqs", **kwargs))
    sender = BatchingSender(
        client,
        settings.queue_url,
        max_delay=settings.queue_batch_max_delay_ms / 1000,
        on_batch=metrics.queue_batch_size.observe,
    )
    stack.push_async_callback(sender.close)
    return sender


def _keyring(settings: Settings) -> KeyRing:
    from app.aws import read_secret_json
    from app.errors import ConfigurationError

    arn = settings.jwt_signing_secret_arn
    if not arn:
        raise ConfigurationError("JWT_SIGNING_SECRET_ARN is not set; set it to the key-set secret")
    return KeyRing(
        lambda: read_secret_json(settings, arn),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


@asynccontextmanager
async def open_gateway(
    settings: Settings,
    metrics: GatewayMetrics | None = None,
    notifier: Notifier | None = None,
) -> AsyncIterator[Gateway]:
    """Open engine, limiter, queue client, key ring and notifier; close them all on exit.

    A ``notifier`` handed in (an in-process worker shares it) is used as is and left to
    its owner to close; otherwise one completion subscriber is opened per process.
    """
    async with AsyncExitStack() as stack:
        url = await asyncio.to_thread(resolve_database_url, settings)
        if settings.is_development:
            from app.db.migrate import upgrade_to_head

            await asyncio.to_thread(upgrade_to_head, url)
        engine = create_engine_for(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        stack.push_async_callback(engine.dispose)
        lease = statement_lease_for(
            engine, size=max(1, settings.database_pool_size // INSERT_LEASE_SHARE)
        )
        inserts = PendingInserts(lease) if lease is not None else None
        if inserts is not None:
            stack.push_async_callback(inserts.close)
        limiter = await _open_limiter(settings, stack)
        keyring = _keyring(settings)
        await asyncio.to_thread(keyring.refresh)
        ttl = settings.api_key_cache_seconds
        if not settings.uses_redis:
            ttl = min(ttl, UNSHARED_KEY_CACHE_MAX_SECONDS)
        metrics = metrics or GatewayMetrics()
        yield Gateway(
            settings=settings,
            engine=engine,
            inserts=inserts,
            limiter=limiter,
            sender=await _open_sender(settings, stack, metrics),
            keyring=keyring,
            key_cache=ApiKeyCache(lambda h: accounts.find_api_key(engine, h), ttl=ttl),
            tenants=TenantCache(engine, settings.tenant_cache_seconds),
            metrics=metrics,
            notifier=notifier or await _open_notifier(settings, stack),
        )
