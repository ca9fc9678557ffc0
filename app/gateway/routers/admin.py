"""Admin routes (role admin, own tenant only): API keys and usage analytics.

Every mutating action and every usage export writes an audit_log row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.auth.api_keys import generate_key
from app.db import accounts
from app.errors import NotFound, ValidationFailed
from app.gateway.accept import DB_ERRORS, db_unavailable
from app.gateway.deps import AdminDep, GatewayDep
from app.gateway.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ErrorBody,
    ModelUsage,
    UsagePublic,
)
from app.logging import mask_text

router = APIRouter(prefix="/api/admin", tags=["admin"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid credential."},
    403: {"model": ErrorBody, "description": "The caller is not an admin."},
    503: {"model": ErrorBody, "description": "Database unavailable."},
}
MAX_USAGE_DAYS = 366


def _key_view(row: dict[str, Any]) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=row["id"],
        prefix=row["prefix"],
        name=mask_text(row["name"]),
        role=row["role"],
        requests_per_minute=row["requests_per_minute"],
        revoked=row["revoked"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


@router.post("/keys", status_code=201, response_model=ApiKeyCreated, responses=ERRORS)
async def create_key(body: ApiKeyCreate, gw: GatewayDep, admin: AdminDep) -> Any:
    """Create an API key for the admin's tenant; the plaintext is returned only here."""
    new = generate_key()
    values = {
        "id": new.key_id,
        "tenant_id": admin.tenant_id,
        "key_hash": new.key_hash,
        "prefix": new.prefix,
        "role": body.role,
        "name": body.name,
        "requests_per_minute": body.requests_per_minute,
    }
    try:
        await accounts.insert_api_key(gw.engine, values)
        await accounts.record_audit(
            gw.engine,
            tenant_id=admin.tenant_id,
            actor=admin.subject,
            action="api_key.create",
            target=new.key_id,
            detail={"role": body.role},
        )
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    now = datetime.now(UTC)
    return ApiKeyCreated(
        **_key_view(
            values | {"revoked": False, "created_at": now, "revoked_at": None}
        ).model_dump(),
        key=new.plaintext,
    )


@router.get("/keys", response_model=list[ApiKeyPublic], responses=ERRORS)
async def list_keys(gw: GatewayDep, admin: AdminDep) -> Any:
    """The tenant's keys (never the key material)."""
    try:
        rows = await accounts.list_api_keys(gw.engine, admin.tenant_id)
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    return [_key_view(row) for row in rows]


@router.delete("/keys/{key_id}", response_model=ApiKeyPublic, responses=ERRORS)
async def revoke_key(key_id: str, gw: GatewayDep, admin: AdminDep) -> Any:
    """Revoke a key; every gateway process refuses it from the next request on.

    Safe to repeat: when the shared limiter cannot be told (Redis down: 503), the key is
    already revoked in the database and audited, and repeating the call finishes it.
    """
    try:
        if not await accounts.revoke_api_key(gw.engine, tenant_id=admin.tenant_id, key_id=key_id):
            raise NotFound(f"no API key {key_id[:40]!r} for this tenant")
        # This process forgets first (no await in between: no request can slip through
        # on its cache), then every other gateway learns of it through the limiter.
        gw.key_cache.forget_all()
        await accounts.record_audit(
            gw.engine,
            tenant_id=admin.tenant_id,
            actor=admin.subject,
            action="api_key.revoke",
            target=key_id,
        )
        await gw.limiter.mark_revoked(key_id)
        rows = await accounts.list_api_keys(gw.engine, admin.tenant_id)
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    return next(_key_view(row) for row in rows if row["id"] == key_id)


@router.get("/usage", response_model=UsagePublic, responses=ERRORS)
async def usage(
    gw: GatewayDep,
    admin: AdminDep,
    since: Annotated[datetime | None, Query(description="Default: 30 days ago.")] = None,
    until: Annotated[datetime | None, Query(description="Default: now.")] = None,
) -> Any:
    """Per-model usage totals of the admin's tenant (from usage_events)."""
    until = _aware(until) or datetime.now(UTC)
    since = _aware(since) or until - timedelta(days=30)
    if not timedelta(0) <= until - since <= timedelta(days=MAX_USAGE_DAYS):
        raise ValidationFailed(
            f"since must be before until and at most {MAX_USAGE_DAYS} days earlier",
            field="since",
        )
    try:
        rows = await accounts.usage_by_model(
            gw.engine, tenant_id=admin.tenant_id, since=since, until=until
        )
        await accounts.record_audit(
            gw.engine,
            tenant_id=admin.tenant_id,
            actor=admin.subject,
            action="usage.export",
            detail={"since": since.isoformat(), "until": until.isoformat()},
        )
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    models = [ModelUsage(**{k: row[k] for k in ModelUsage.model_fields}) for row in rows]
    return UsagePublic(
        tenant_id=admin.tenant_id,
        since=since,
        until=until,
        models=models,
        total_requests=sum(m.requests for m in models),
        total_cost_usd=round(sum(m.cost_usd for m in models), 6),
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
