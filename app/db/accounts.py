"""Tenants, API keys, audit log and usage analytics (admin paths; SQLAlchemy Core)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.models import ApiKey, AuditEvent, Tenant, UsageEvent
from app.db.requests import utc

tenants: sa.Table = Tenant.__table__  # type: ignore[assignment]
api_keys: sa.Table = ApiKey.__table__  # type: ignore[assignment]
audit_log: sa.Table = AuditEvent.__table__  # type: ignore[assignment]
usage_events: sa.Table = UsageEvent.__table__  # type: ignore[assignment]

KEY_COLUMNS = (
    api_keys.c.id,
    api_keys.c.tenant_id,
    api_keys.c.prefix,
    api_keys.c.role,
    api_keys.c.name,
    api_keys.c.requests_per_minute,
    api_keys.c.revoked,
    api_keys.c.revoked_at,
    api_keys.c.created_at,
)


@dataclass(frozen=True)
class TenantLimits:
    """A tenant's rate limits."""

    tenant_id: str
    requests_per_minute: int
    tokens_per_minute: int


async def create_tenant(
    engine: AsyncEngine,
    *,
    tenant_id: str,
    name: str,
    requests_per_minute: int = 600,
    tokens_per_minute: int = 200_000,
) -> None:
    """Insert a tenant row."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(tenants).values(
                id=tenant_id,
                name=name,
                requests_per_minute=requests_per_minute,
                tokens_per_minute=tokens_per_minute,
                created_at=datetime.now(UTC),
            )
        )


async def get_tenant_limits(engine: AsyncEngine, tenant_id: str) -> TenantLimits | None:
    """The tenant's limits, or None for an unknown tenant."""
    query = sa.select(tenants.c.requests_per_minute, tenants.c.tokens_per_minute).where(
        tenants.c.id == tenant_id
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return TenantLimits(tenant_id, row[0], row[1]) if row else None


async def insert_api_key(engine: AsyncEngine, values: dict[str, Any]) -> None:
    """Store a new API key row (``values`` carries the hash, never the key)."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(api_keys).values(revoked=False, created_at=datetime.now(UTC), **values)
        )


async def find_api_key(engine: AsyncEngine, key_hash: str) -> dict[str, Any] | None:
    """The key row with this hash (revoked or not), or None."""
    query = sa.select(*KEY_COLUMNS).where(api_keys.c.key_hash == key_hash)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return dict(row) if row else None


async def list_api_keys(engine: AsyncEngine, tenant_id: str) -> list[dict[str, Any]]:
    """Every key of the tenant, newest first."""
    query = (
        sa.select(*KEY_COLUMNS)
        .where(api_keys.c.tenant_id == tenant_id)
        .order_by(api_keys.c.created_at.desc(), api_keys.c.id)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [
        dict(row) | {"created_at": utc(row["created_at"]), "revoked_at": utc(row["revoked_at"])}
        for row in rows
    ]


async def revoke_api_key(engine: AsyncEngine, *, tenant_id: str, key_id: str) -> bool:
    """Revoke the tenant's key; False when no such key exists for this tenant.

    Repeating it is harmless: the first revocation's time is kept.
    """
    first = sa.func.coalesce(api_keys.c.revoked_at, datetime.now(UTC))
    async with engine.begin() as conn:
        result = await conn.execute(
            sa.update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.tenant_id == tenant_id)
            .values(revoked=True, revoked_at=first)
        )
    return bool(result.rowcount)


async def record_audit(
    conn_or_engine: AsyncEngine | AsyncConnection,
    *,
    tenant_id: str | None,
    actor: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit_log row for an admin action."""
    statement = sa.insert(audit_log).values(
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        target=target,
        detail=detail or {},
        created_at=datetime.now(UTC),
    )
    if isinstance(conn_or_engine, AsyncConnection):
        await conn_or_engine.execute(statement)
        return
    async with conn_or_engine.begin() as conn:
        await conn.execute(statement)


async def list_audit(engine: AsyncEngine, tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's audit rows, oldest first."""
    query = (
        sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.target, audit_log.c.detail)
        .where(audit_log.c.tenant_id == tenant_id)
        .order_by(audit_log.c.id)
    )
    async with engine.connect() as conn:
        return [dict(row) for row in (await conn.execute(query)).mappings().all()]


async def usage_by_model(
    engine: AsyncEngine, *, tenant_id: str, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Per-model totals of the tenant's usage events in [since, until)."""
    query = (
        sa.select(
            usage_events.c.model,
            usage_events.c.provider,
            sa.func.count().label("requests"),
            sa.func.coalesce(sa.func.sum(usage_events.c.tokens_in), 0).label("tokens_in"),
            sa.func.coalesce(sa.func.sum(usage_events.c.tokens_out), 0).label("tokens_out"),
            sa.func.coalesce(sa.func.sum(usage_events.c.cost_usd), 0).label("cost_usd"),
            sa.func.coalesce(sa.func.avg(usage_events.c.latency_ms), 0).label("avg_latency_ms"),
        )
        .where(
            usage_events.c.tenant_id == tenant_id,
            usage_events.c.created_at >= since,
            usage_events.c.created_at < until,
        )
        .group_by(usage_events.c.model, usage_events.c.provider)
        .order_by(usage_events.c.model)
    )
    async with engine.connect() as conn:
        return [dict(row) for row in (await conn.execute(query)).mappings().all()]
