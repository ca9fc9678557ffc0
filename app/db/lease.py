"""Bare asyncpg connections for one-statement autocommit queries (the accept path's
insert, the worker's grouped statements).

A checkout and checkin through SQLAlchemy's pool costs ~60 us of CPU (a greenlet hop
each way, the connection fairy's bookkeeping, the reset on return); asyncpg's own pool
~45 us (it sends a reset query on every release). A single autocommit statement leaves
no session state behind, so it needs neither: this lease hands out an idle connection,
opens one when none is idle (at most ``size`` at once) and takes it back afterwards.

Failures: a server-side error (a constraint, a cancelled statement) leaves the
connection usable and it goes back. Anything else (a closed socket, a timeout,
cancellation mid-protocol) may have broken it, so it is dropped. When the connection
itself was lost (the server went away: a restart, a failover), every idle one is dropped
too, as SQLAlchemy's pool does on a disconnect; a timeout or a cancellation drops only
its own, so a slow server is not also made to accept a burst of reconnections. An idle
connection found closed (its server process ended while it waited) is never handed out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

# SQLAlchemy-only connect arguments its asyncpg adapter removes before asyncpg.connect.
_ADAPTER_ONLY = frozenset(
    {"async_creator_fn", "prepared_statement_cache_size", "prepared_statement_name_func"}
)


class ConnectionLease:
    """Up to ``size`` asyncpg connections, opened lazily, for short autocommit statements."""

    def __init__(
        self,
        connect_kwargs: dict[str, Any],
        *,
        size: int,
        acquire_timeout: float,
    ) -> None:
        self._connect_kwargs = connect_kwargs
        self._slots = asyncio.Semaphore(size)
        self._acquire_timeout = acquire_timeout
        self._idle: list[Any] = []
        self._closed = False

    @classmethod
    def for_engine(
        cls, engine: AsyncEngine, *, size: int, connect_args: dict[str, Any], acquire_timeout: float
    ) -> ConnectionLease:
        """Connections to ``engine``'s database, made with the arguments SQLAlchemy would use."""
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        if cargs:
            raise ValueError(f"unexpected positional connect arguments for asyncpg: {cargs!r}")
        kwargs = {k: v for k, v in cparams.items() if k not in _ADAPTER_ONLY}
        return cls(kwargs | connect_args, size=size, acquire_timeout=acquire_timeout)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """An open asyncpg connection for one statement; waits at most ``acquire_timeout``."""
        if self._closed:
            raise ConnectionError("the connection lease is closed")
        if self._slots.locked():  # every connection busy: wait, but not forever
            async with asyncio.timeout(self._acquire_timeout):
                await self._slots.acquire()
        else:
            await self._slots.acquire()
        try:
            conn = self._idle_connection() or await self._connect()
            try:
                yield conn
            except BaseException as exc:
                self._after_error(conn, exc)
                raise
            self._put_back(conn)
        finally:
            self._slots.release()

    def _idle_connection(self) -> Any:
        """The most recently used idle connection still open, or None."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            conn.terminate()
        return None

    async def _connect(self) -> Any:
        import asyncpg

        return await asyncpg.connect(**self._connect_kwargs)

    def _put_back(self, conn: Any) -> None:
        if self._closed or conn.is_closed():
            conn.terminate()
        else:
            self._idle.append(conn)

    def _after_error(self, conn: Any, exc: BaseException) -> None:
        import asyncpg

        if isinstance(exc, asyncpg.PostgresError) and not conn.is_closed():
            self._put_back(conn)
            return
        lost = conn.is_closed() or isinstance(
            exc, asyncpg.ConnectionDoesNotExistError | ConnectionError
        )
        conn.terminate()
        if lost:
            self.drop_idle()

    def drop_idle(self) -> None:
        """Close every idle connection (in-use ones close when handed back)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.terminate()

    async def close(self) -> None:
        """Close idle connections and refuse new leases; in-use ones close on return."""
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(conn.close(timeout=2) for conn in idle), return_exceptions=True)

    @property
    def idle_count(self) -> int:
        return len(self._idle)
