"""Completion notifications: the worker says "request done", waiting long-polls wake up.

Best effort by design: the row in the database is the truth, a notification only says
"read it now". A lost one (Redis restart, no shared process) delays a long-poll until its
next database re-check, nothing more.

- ``RedisNotifier``: PUBLISH on ``agatha:done``; one SUBSCRIBE connection per gateway
  process fans out to the waiters of that process (no per-request subscription).
- ``InProcessNotifier``: gateway and worker in one process (``agatha local up``).
- ``NullNotifier``: nothing to notify through; waits just time out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import structlog

if TYPE_CHECKING:
    from app.settings import Settings

CHANNEL = "agatha:done"
PUBLISH_TIMEOUT_SECONDS = 1.0
RESUBSCRIBE_PAUSE_SECONDS = 1.0


class Watch(Protocol):
    """A registration for one request id; ``wait`` is True when notified."""

    async def wait(self, timeout: float) -> bool: ...


class Notifier(Protocol):
    """What the worker publishes to and the gateway's long-poll waits on."""

    live: bool

    async def publish_done(self, request_id: str) -> None: ...

    async def wait_done(self, request_id: str, timeout: float) -> bool: ...

    def watch(self, request_id: str) -> contextlib.AbstractContextManager[Watch]: ...

    def start(self) -> None: ...

    async def aclose(self) -> None: ...


class _Waiter:
    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.event.wait(), timeout=max(0.0, timeout))
        except TimeoutError:
            return False
        self.event.clear()  # a later wait blocks again instead of spinning
        return True


class Waiters:
    """request id -> the events of the long-polls waiting for it in this process."""

    def __init__(self) -> None:
        self._by_id: dict[str, set[_Waiter]] = {}

    @contextlib.contextmanager
    def watch(self, request_id: str) -> Iterator[_Waiter]:
        """Register before reading the row, so a notification in between is not missed."""
        waiter = _Waiter()
        self._by_id.setdefault(request_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            group = self._by_id.get(request_id)
            if group is not None:
                group.discard(waiter)
                if not group:
                    del self._by_id[request_id]

    def fire(self, request_id: str) -> None:
        for waiter in self._by_id.get(request_id, ()):
            waiter.event.set()

    async def wait(self, request_id: str, timeout: float) -> bool:
        with self.watch(request_id) as waiter:
            return await waiter.wait(timeout)


class NullNotifier:
    """No channel: publishing does nothing, waiting is a plain timeout."""

    live = False

    def __init__(self) -> None:
        self._waiters = Waiters()

    async def publish_done(self, request_id: str) -> None:
        return None

    async def wait_done(self, request_id: str, timeout: float) -> bool:
        return await self._waiters.wait(request_id, timeout)

    def watch(self, request_id: str) -> contextlib.AbstractContextManager[Watch]:
        return self._waiters.watch(request_id)

    def start(self) -> None:
        """Begin receiving notifications (a publisher-only process never calls it)."""
        return None

    async def aclose(self) -> None:
        return None


class InProcessNotifier(NullNotifier):
    """Gateway and worker share this object (and the event loop) in one process."""

    live = True

    async def publish_done(self, request_id: str) -> None:
        self._waiters.fire(request_id)


class RedisNotifier(NullNotifier):
    """PUBLISH completions; one lazily started SUBSCRIBE task wakes this process's waiters."""

    live = True

    def __init__(self, client: Any) -> None:
        super().__init__()
        self._client = client
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._log = structlog.get_logger("app.notify")

    async def publish_done(self, request_id: str) -> None:
        from redis.exceptions import RedisError

        try:
            await asyncio.wait_for(
                self._client.publish(CHANNEL, request_id), timeout=PUBLISH_TIMEOUT_SECONDS
            )
        except (RedisError, OSError, TimeoutError) as exc:
            # Waiters fall back to re-reading the row; the job itself is done.
            self._log.warning("notify.publish_failed", request_id=request_id, error=str(exc))

    def watch(self, request_id: str) -> contextlib.AbstractContextManager[Watch]:
        self.start()
        return self._waiters.watch(request_id)

    def start(self) -> None:
        """Subscribe (once per notifier) so waits can be woken."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen())

    async def subscribed(self, timeout: float) -> bool:
        """True once the subscription is live (tests, readiness)."""
        self.start()
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout=timeout)
        except TimeoutError:
            return False
        return True

    async def _listen(self) -> None:
        from redis.exceptions import RedisError

        while True:
            try:
                await self._listen_once()
            except (RedisError, OSError) as exc:
                # Notifications sent meanwhile are lost; long-polls still re-check the row.
                self._subscribed.clear()
                self._log.warning("notify.subscription_lost", error=str(exc))
                await asyncio.sleep(RESUBSCRIBE_PAUSE_SECONDS)

    async def _listen_once(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            self._subscribed.set()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    data = message["data"]
                    self._waiters.fire(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            await pubsub.aclose()

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await self._client.aclose()


def redis_url(settings: Settings) -> str:
    """REDIS_URL, or one built from REDIS_HOST/PORT/TLS and the auth token secret."""
    if settings.redis_url:
        return settings.redis_url
    scheme = "rediss" if settings.redis_tls else "redis"
    password = ""
    if settings.redis_auth_secret_arn:
        from urllib.parse import quote

        from app.aws import read_secret_json

        secret = read_secret_json(settings, settings.redis_auth_secret_arn)
        token = secret.get("token") or secret.get("auth_token") or secret.get("password")
        password = f":{quote(str(token), safe='')}@"
    return f"{scheme}://{password}{settings.redis_host}:{settings.redis_port}/0"


async def notifier_for(settings: Settings) -> Notifier:
    """Redis when configured (and the client is installed), else the no-op notifier."""
    if not settings.uses_redis:
        return NullNotifier()
    try:
        from redis.asyncio import Redis
    except ImportError:
        # The Lambda worker's bundle leaves redis out: long-polls fall back to the database.
        structlog.get_logger("app.notify").warning("notify.redis_client_missing")
        return NullNotifier()
    url = await asyncio.to_thread(redis_url, settings)
    return RedisNotifier(Redis.from_url(url))


@contextlib.asynccontextmanager
async def open_notifier(settings: Settings) -> AsyncIterator[Notifier]:
    """A waiting side (gateway): ``notifier_for(settings)`` subscribed now, closed on exit."""
    notifier = await notifier_for(settings)
    notifier.start()
    try:
        yield notifier
    finally:
        await notifier.aclose()
