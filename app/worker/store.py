"""The worker's SQL (SQLAlchemy Core): claim with a lease, extend, complete, fail, release.

Every write after the claim is conditional on ``lease_owner`` so a worker whose lease
expired (and was re-claimed by another) cannot overwrite the new owner's result.
Each state change is one statement on an autocommit connection (no BEGIN/COMMIT round
trips); on PostgreSQL completing the row and inserting its usage row is one statement too.
The per-job statements (claim, call mark, complete, set_archived) are prebuilt
(app/worker/statements.py); on asyncpg they go as SQL text straight to a bare asyncpg
connection (``app.db.lease.ConnectionLease``, as the gateway's insert): no SQLAlchemy
execution context, greenlet or pool checkout per call. The execution context cut the
statements from ~4 ms to ~1.1 ms of CPU per job; the pool checkout was another ~0.13 ms
per statement (docs/benchmarks.md, round 11). There, too, the calls made
in one pass of the event loop (the jobs of one receive batch), and those made while
earlier statements of their kind are in flight, share one statement
(``app.batching.GroupCommit``): a quarter of the statements per job, and less PostgreSQL
time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
from sqlalchemy import and_, insert, literal, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.batching import GroupCommit
from app.db.engine import statement_lease_for
from app.db.models import RequestStatus
from app.usage.recorder import USAGE, UsageRecord, record_usage
from app.worker.statements import (
    CLAIM,
    CLAIM_MANY_SQL,
    COMPLETE_MANY_SQL,
    COMPLETE_MANY_TYPES,
    COMPLETED_VALUES,
    REQUESTS,
    SET_ARCHIVED,
    SET_ARCHIVED_MANY_SQL,
    USAGE_FIELDS,
)

Clock = Callable[[], datetime]
# The grouped statements: claim, complete, archive key. Each kind runs up to
# MAX_INFLIGHT_PER_KIND at once, each carrying up to MAX_ROWS rows (unnest arrays; a
# receive batch is at most 10 messages).
STATEMENT_KINDS = 3
MAX_INFLIGHT_PER_KIND = 4
MAX_ROWS = 100
HOT_CONNECTIONS = STATEMENT_KINDS * MAX_INFLIGHT_PER_KIND
# Connections of DATABASE_POOL_SIZE kept for the engine's own pool (state reads, fail,
# release, heartbeats, the reaper) whenever the pool is big enough to spare them.
ENGINE_RESERVE = 2


def hot_connections(pool_size: int) -> int:
    """Bare connections for the grouped statements of a worker with this pool size.

    One per statement that can be in flight, so none ever waits for a connection: as many
    statements of each kind in flight as fit in DATABASE_POOL_SIZE less ENGINE_RESERVE
    (the Lambda worker sizes the pool to its batch), at least one and at most
    MAX_INFLIGHT_PER_KIND. They are opened as first needed. ``build_runtime`` gives the
    engine's own pool what is left, so a worker keeps to about DATABASE_POOL_SIZE +
    DATABASE_MAX_OVERFLOW connections in all.
    """
    per_kind = min(MAX_INFLIGHT_PER_KIND, (pool_size - ENGINE_RESERVE) // STATEMENT_KINDS)
    return STATEMENT_KINDS * max(1, per_kind)


# Recording a job's archive key answers no client (its result is stored already; only the
# message's delete waits on it): those statements wait this long for company, so one
# UPDATE serves every job archived within it (~6 at 300 jobs/s) instead of one each.
ARCHIVE_KEY_LINGER_SECONDS = 0.02
# What a store call raises when the database is unreachable or refuses the statement
# (the asyncpg ones come from the statements sent on the driver directly).
STORE_ERRORS: tuple[type[Exception], ...] = (
    SQLAlchemyError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; the worker only ever writes UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ClaimedJob:
    """The row a worker now owns until ``lease_expires_at``."""

    id: str
    tenant_id: str
    model: str
    prompt: str
    parameters: dict[str, Any]
    attempts: int
    created_at: datetime
    # Taken from a worker that died with its provider call in flight (only ever true when
    # claims mark calls: WORKER_INTERRUPTED_CALLS=fail).
    interrupted: bool = False


@dataclass(frozen=True)
class _Claim:
    """One row of ``CLAIM_MANY_SQL``."""

    request_id: str
    now: datetime
    expires: datetime
    owner: str
    calling: bool


@dataclass(frozen=True)
class _Completion:
    """One row of ``COMPLETE_MANY_SQL``: its columns in ``COMPLETE_MANY_TYPES`` order."""

    request_id: str
    columns: tuple[Any, ...]


@dataclass(frozen=True)
class RowState:
    """What a worker that lost the claim needs to decide what to do with the message."""

    status: str
    lease_owner: str | None
    lease_expires_at: datetime | None
    archive_key: str | None
    prompt: str | None


@dataclass(frozen=True)
class FinishedRow:
    """A completed row whose archive object is still to be written."""

    id: str
    tenant_id: str
    model: str
    provider: str
    prompt: str
    parameters: dict[str, Any]
    response: str
    created_at: datetime
    completed_at: datetime
    metadata: dict[str, Any]


class JobStore:
    """Conditional state changes on ``inference_requests`` (one atomic statement each)."""

    def __init__(
        self, engine: AsyncEngine, *, clock: Clock = utc_now, connections: int | None = None
    ) -> None:
        self._engine = engine
        # Every call below is a single statement, atomic on its own: autocommit saves the
        # BEGIN and COMMIT round trips (and the pool's reset ROLLBACK) per call.
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._clock = clock
        self._pg = engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg"
        if connections is None:
            pool_size = getattr(engine.pool, "size", None)
            connections = hot_connections(pool_size() if callable(pool_size) else HOT_CONNECTIONS)
        per_kind = max(1, connections // STATEMENT_KINDS)
        size = STATEMENT_KINDS * per_kind
        groups = {"max_batch": MAX_ROWS, "max_inflight": per_kind}
        self._claims = GroupCommit(self._claim_rows, **groups)
        self._completions = GroupCommit(self._complete_rows, **groups)
        self._archived = GroupCommit(
            self._set_archive_keys, **groups, linger=ARCHIVE_KEY_LINGER_SECONDS
        )
        self._lease = statement_lease_for(engine, size=size) if self._pg else None

    async def aclose(self) -> None:
        """Close the grouped statements' connections (the engine is its owner's to dispose)."""
        if self._lease is not None:
            await self._lease.close()

    async def _fetch_sql(self, sql: str, args: Sequence[Any]) -> list[Any]:
        """Run PostgreSQL text with positional ``args`` on a leased asyncpg connection.

        A server-side error hands the connection back; anything else (a closed socket, a
        restart, cancellation mid-protocol) drops it and every idle one (the lease).
        """
        if self._lease is None:
            raise RuntimeError("raw SQL needs PostgreSQL on asyncpg")
        async with self._lease.connection() as conn:
            return list(await conn.fetch(sql, *args))

    def _claimable(self, request_id: str, now: datetime) -> Any:
        expired = and_(
            REQUESTS.c.status == RequestStatus.PROCESSING, REQUESTS.c.lease_expires_at < now
        )
        return and_(
            REQUESTS.c.id == request_id, or_(REQUESTS.c.status == RequestStatus.PENDING, expired)
        )

    async def claim(
        self, request_id: str, *, owner: str, lease_seconds: float, calling: bool = False
    ) -> ClaimedJob | None:
        """Take the row (pending, or processing with an expired lease); None if another has it.

        ``calling``: the owner's provider call starts now (WORKER_INTERRUPTED_CALLS=fail).
        A worker that dies after this leaves the row ``processing`` with the mark set, so
        the next claim knows the call may have reached the provider (``interrupted``).
        """
        now = self._clock()
        expires = now + timedelta(seconds=lease_seconds)
        row: Any
        interrupted = False
        if self._pg:
            row = await self._claims.submit(_Claim(request_id, now, expires, owner, calling))
            interrupted = row is not None and bool(row["interrupted"])
        else:
            params = {
                "p_id": request_id,
                "p_now": now,
                "p_owner": owner,
                "p_expires": expires,
                "p_call_started_at": now if calling else None,
            }
            was, row = await self._claim_one(request_id, params)
            interrupted = was is not None and (
                was.status == RequestStatus.PROCESSING and was.call_started_at is not None
            )
        if row is None:
            return None
        return ClaimedJob(
            id=row["id"],
            tenant_id=row["tenant_id"],
            model=row["model"],
            prompt=row["prompt"] or "",
            parameters=_json_object(row["parameters"]),
            attempts=int(row["attempts"]),
            created_at=cast(datetime, as_utc(row["created_at"])),
            interrupted=interrupted,
        )

    async def _claim_one(self, request_id: str, params: dict[str, Any]) -> tuple[Any, Any]:
        """The row as it was, then ``CLAIM``, in one transaction that holds the row.

        SQLite ignores FOR UPDATE and its driver only begins a transaction at the first
        write: BEGIN IMMEDIATE takes the write lock before the read instead.
        """
        before = select(REQUESTS.c.status, REQUESTS.c.call_started_at).where(
            REQUESTS.c.id == request_id
        )
        if self._engine.dialect.name != "sqlite":
            async with self._engine.begin() as conn:
                was = (await conn.execute(before.with_for_update())).first()
                return was, (await conn.execute(CLAIM, params)).mappings().first()
        async with self._single.connect() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                was = (await conn.execute(before)).first()
                row = (await conn.execute(CLAIM, params)).mappings().first()
            except BaseException:
                await conn.exec_driver_sql("ROLLBACK")
                raise
            await conn.exec_driver_sql("COMMIT")
            return was, row

    async def _claim_rows(self, claims: list[_Claim]) -> list[Any]:
        """One ``CLAIM_MANY_SQL``: each claim's row, or None when it was not claimable."""
        # Sorted ids lock rows in one order, so two workers' batches cannot deadlock.
        ordered = sorted(claims, key=lambda c: c.request_id)
        args = [
            [getattr(c, name) for c in ordered]
            for name in ("request_id", "now", "expires", "owner", "calling")
        ]
        by_id = {row["id"]: row for row in await self._fetch_sql(CLAIM_MANY_SQL, args)}
        # A second delivery in the same pass finds the row taken by the first.
        return [by_id.pop(claim.request_id, None) for claim in claims]

    async def state(self, request_id: str) -> RowState | None:
        """The row's status and lease (None when there is no such request)."""
        query = select(
            REQUESTS.c.status,
            REQUESTS.c.lease_owner,
            REQUESTS.c.lease_expires_at,
            REQUESTS.c.archive_key,
            REQUESTS.c.prompt,
        ).where(REQUESTS.c.id == request_id)
        async with self._single.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return RowState(
            status=row["status"],
            lease_owner=row["lease_owner"],
            lease_expires_at=as_utc(row["lease_expires_at"]),
            archive_key=row["archive_key"],
            prompt=row["prompt"],
        )

    def _owned(self, request_id: str, owner: str) -> Any:
        return and_(
            REQUESTS.c.id == request_id,
            REQUESTS.c.status == RequestStatus.PROCESSING,
            REQUESTS.c.lease_owner == owner,
        )

    async def _update(self, where: Any, values: dict[str, Any]) -> bool:
        async with self._single.connect() as conn:
            result = await conn.execute(update(REQUESTS).where(where).values(**values))
        return bool(result.rowcount)

    async def extend_lease(self, request_id: str, *, owner: str, lease_seconds: float) -> bool:
        """Push the lease out while a long provider call runs; False if the lease was lost."""
        now = self._clock()
        values = {"lease_expires_at": now + timedelta(seconds=lease_seconds), "updated_at": now}
        return await self._update(self._owned(request_id, owner), values)

    async def complete(
        self,
        request_id: str,
        *,
        owner: str,
        values: dict[str, Any],
        usage: UsageRecord,
        at: datetime | None = None,
    ) -> bool:
        """Store the result and the usage row atomically; False if the lease was lost.

        ``at`` is the completion time (default now), so a caller can archive the same value.
        """
        now = at or self._clock()
        if self._pg and values.keys() == COMPLETED_VALUES:
            row = {"id": request_id, "owner": owner, "now": now, **values}
            row |= {f"u_{k}": getattr(usage, k) for k in USAGE_FIELDS}
            columns = tuple(row[name] for name in COMPLETE_MANY_TYPES)
            return await self._completions.submit(_Completion(request_id, columns))
        done = (
            update(REQUESTS)
            .where(self._owned(request_id, owner))
            .values(
                status=RequestStatus.COMPLETED,
                completed_at=now,
                updated_at=now,
                lease_owner=None,
                lease_expires_at=None,
                error_code=None,
                error_message=None,
                **values,
            )
        )
        if self._engine.dialect.name == "postgresql":
            async with self._single.connect() as conn:
                inserted = await conn.execute(_complete_with_usage(done, usage))
                return inserted.first() is not None
        # SQLite has no data-modifying CTEs: two statements in one transaction.
        async with self._engine.begin() as conn:
            result = await conn.execute(done)
            if not result.rowcount:
                return False
            await record_usage(conn, usage)
        return True

    async def fail(
        self, request_id: str, *, owner: str | None, error_code: str, error_message: str
    ) -> bool:
        """Mark failed: the owner's row, or (owner None) any row not held by a live lease."""
        now = self._clock()
        if owner is not None:
            where = self._owned(request_id, owner)
        else:
            where = self._claimable(request_id, now)
        values = {
            "status": RequestStatus.FAILED,
            "error_code": error_code,
            "error_message": error_message[:2000],
            "completed_at": now,
            "updated_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        return await self._update(where, values)

    async def release(self, request_id: str, *, owner: str) -> bool:
        """Give the row back (pending, no lease) so the next delivery can claim it at once."""
        values = {
            "status": RequestStatus.PENDING,
            "lease_owner": None,
            "lease_expires_at": None,
            "call_started_at": None,
            "updated_at": self._clock(),
        }
        return await self._update(self._owned(request_id, owner), values)

    async def finished_row(self, request_id: str) -> FinishedRow | None:
        """A completed row that still holds its prompt and has no archive key yet."""
        query = select(REQUESTS).where(
            REQUESTS.c.id == request_id,
            REQUESTS.c.status == RequestStatus.COMPLETED,
            REQUESTS.c.archive_key.is_(None),
            REQUESTS.c.prompt.is_not(None),
        )
        async with self._single.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return FinishedRow(
            id=row["id"],
            tenant_id=row["tenant_id"],
            model=row["model"],
            provider=row["provider"] or "unknown",
            prompt=row["prompt"],
            parameters=dict(row["parameters"] or {}),
            response=row["response"] or "",
            created_at=cast(datetime, as_utc(row["created_at"])),
            completed_at=cast(datetime, as_utc(row["completed_at"])),
            metadata={
                "tokens_in": row["tokens_in"],
                "tokens_out": row["tokens_out"],
                "processing_ms": row["processing_ms"],
                "attempts": row["attempts"],
            },
        )

    async def set_archived(self, request_id: str, *, archive_key: str) -> None:
        """Record the archive key and drop the prompt from the row (the archive holds it now)."""
        if self._pg:
            await self._archived.submit((request_id, archive_key))
            return
        async with self._single.connect() as conn:
            await conn.execute(SET_ARCHIVED, {"p_id": request_id, "p_key": archive_key})

    async def _complete_rows(self, completions: list[_Completion]) -> list[bool]:
        """One ``COMPLETE_MANY_SQL``: whether each completion matched its owner's row."""
        # A repeated id would insert its usage row twice: the first one goes, the
        # repeat finds the row completed, as it would one statement later.
        first = {c.request_id: c for c in reversed(completions)}
        ordered = sorted(first.values(), key=lambda c: c.request_id)
        args = [list(column) for column in zip(*(c.columns for c in ordered), strict=True)]
        done = {row["request_id"] for row in await self._fetch_sql(COMPLETE_MANY_SQL, args)}
        return [c.request_id in done and first[c.request_id] is c for c in completions]

    async def _set_archive_keys(self, keys: list[tuple[str, str]]) -> list[None]:
        """One ``SET_ARCHIVED_MANY_SQL`` for every (request id, archive key)."""
        ordered = sorted(keys)
        ids, archive_keys = [k[0] for k in ordered], [k[1] for k in ordered]
        await self._fetch_sql(SET_ARCHIVED_MANY_SQL, [ids, archive_keys])
        return [None] * len(keys)


def _complete_with_usage(done: Any, usage: UsageRecord) -> Any:
    """``WITH done AS (UPDATE .. RETURNING id) INSERT INTO usage_events SELECT ..``.

    The usage row exists exactly when the conditional update matched: one statement, so
    a lost lease writes neither and a crash cannot leave one without the other.
    """
    done_cte = done.returning(REQUESTS.c.id).cte("done")
    fields = {
        "tenant_id": usage.tenant_id,
        "model": usage.model,
        "provider": usage.provider,
        "tokens_in": usage.tokens_in,
        "tokens_out": usage.tokens_out,
        "latency_ms": usage.latency_ms,
        "cost_usd": usage.cost_usd,
        "created_at": usage.created_at,
    }
    columns = [done_cte.c.id, *(literal(v, USAGE.c[k].type) for k, v in fields.items())]
    return (
        insert(USAGE)
        .from_select(["request_id", *fields], select(*columns))
        .returning(USAGE.c.request_id)
    )


def _json_object(value: Any) -> dict[str, Any]:
    """A JSON column's object: SQLAlchemy decodes it, the raw asyncpg driver hands text."""
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return dict(value or {})
