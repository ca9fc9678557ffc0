"""The hot path: authenticate -> limit -> validate -> insert -> enqueue -> 202.

One Redis round trip (limits + revocation), one database round trip (the insert; a
replayed Idempotency-Key costs one more) and one batched queue send. No ORM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.auth.principal import Principal
from app.db import requests as store
from app.errors import (
    AuthenticationFailed,
    DependencyUnavailable,
    EnqueueFailed,
    IdempotencyConflict,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from app.gateway.ids import new_request_id
from app.gateway.schemas import InferenceCreate
from app.gateway.state import Gateway
from app.gateway.validation import estimated_tokens, request_hash, validate_inference
from app.queue.sender import job_body
from app.ratelimit.base import Decision, LimitRule, rules_for
from app.tracing import span

DB_ERRORS = (SQLAlchemyError, DBAPIError, OSError, TimeoutError)
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True)
class Accepted:
    """The stored row plus what the response headers need."""

    row: dict[str, Any]
    replayed: bool
    rate_headers: dict[str, str]


def db_unavailable(exc: BaseException) -> DependencyUnavailable:
    """The 503 raised when the database does not answer."""
    return DependencyUnavailable(f"database unavailable: {type(exc).__name__}", dependency="db")


async def accept(
    gw: Gateway, principal: Principal, body: InferenceCreate, idempotency_key: str | None
) -> Accepted:
    """Admit, store and enqueue one request (see module docstring)."""
    validate_inference(body, gw.settings)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(
            f"Idempotency-Key must have 1 to {MAX_IDEMPOTENCY_KEY} characters",
            field="Idempotency-Key",
        )
    rate_headers = await _admit(gw, principal, estimated_tokens(body))
    new = store.NewRequest(
        id=new_request_id(),
        tenant_id=principal.tenant_id,
        api_key_id=principal.key_id,
        model=body.model,
        prompt=body.prompt,
        parameters=body.parameters.model_dump(exclude_none=True),
        idempotency_key=idempotency_key,
        request_hash=request_hash(body),
        created_at=datetime.now(UTC),
    )
    try:
        with span("db.insert", _insert_attributes(new.id)):
            row = await store.insert_pending(gw.engine, new, inserts=gw.inserts)
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    if row is None:
        return Accepted(await _replay(gw, new), True, rate_headers)
    await _enqueue(gw, new)
    gw.metrics.accepted.labels(new.model).inc()
    return Accepted(row, False, rate_headers)


async def _admit(gw: Gateway, principal: Principal, tokens: int) -> dict[str, str]:
    """Check the limits; returns the X-RateLimit-* headers of the admitted request."""
    try:
        limits = await gw.tenants.get(principal.tenant_id)
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    if limits is None:
        raise PermissionDenied(
            f"tenant {principal.tenant_id!r} is not registered; ask an operator to create it",
            code="unknown_tenant",
        )
    rules = rules_for(
        tenant_id=principal.tenant_id,
        key_id=principal.key_id,
        tenant_rpm=limits.requests_per_minute,
        tenant_tpm=limits.tokens_per_minute,
        key_rpm=principal.key_requests_per_minute or gw.settings.rate_limit_key_requests_per_minute,
        key_tpm=gw.settings.rate_limit_key_tokens_per_minute,
        tokens=tokens,
    )
    decision = await gw.limiter.check(rules, key_id=principal.key_id)
    if decision.revoked:
        gw.key_cache.forget_all()
        raise AuthenticationFailed("API key is unknown or revoked")
    if not decision.allowed:
        gw.metrics.rate_limited.labels(decision.denied_rule or "").inc()
        retry = max(1, math.ceil(decision.retry_after))
        raise RateLimited(
            f"{decision.denied_rule} limit reached; retry after {retry} s",
            headers={"Retry-After": str(retry), **limit_headers(decision, rules)},
        )
    return limit_headers(decision, rules)


def limit_headers(decision: Decision, rules: list[LimitRule]) -> dict[str, str]:
    """X-RateLimit-* headers of the bucket that refused, else of the tightest request bucket."""
    index = _header_bucket(decision, rules)
    remaining = decision.remaining[index] if len(decision.remaining) > index else 0
    return {
        "X-RateLimit-Limit": str(rules[index].limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": str(max(0, math.ceil(decision.retry_after))),
    }


def _header_bucket(decision: Decision, rules: list[LimitRule]) -> int:
    names = [rule.name for rule in rules]
    if decision.denied_rule in names:
        return names.index(str(decision.denied_rule))
    request_buckets = [i for i, rule in enumerate(rules) if rule.key.endswith(":req")]
    if not decision.remaining:
        return request_buckets[0]
    return min(request_buckets, key=lambda i: decision.remaining[i])


async def _replay(gw: Gateway, new: store.NewRequest) -> dict[str, Any]:
    key = new.idempotency_key or ""
    try:
        existing = await store.find_by_idempotency_key(gw.engine, tenant_id=new.tenant_id, key=key)
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    if existing is None:
        raise DependencyUnavailable("idempotency record vanished; retry", dependency="db")
    retention = timedelta(hours=gw.settings.idempotency_retention_hours)
    if existing["created_at"] < new.created_at - retention:
        # The key's retention ended: free it and store this request as new.
        await store.release_idempotency_key(gw.engine, tenant_id=new.tenant_id, key=key)
        row = await store.insert_pending(gw.engine, new, inserts=gw.inserts)
        if row is None:
            raise DependencyUnavailable("idempotency key raced; retry", dependency="db")
        await _enqueue(gw, new)
        return row
    if existing["request_hash"] != new.request_hash:
        raise IdempotencyConflict(
            "Idempotency-Key was already used with a different body; use a new key",
            field="Idempotency-Key",
        )
    return existing


async def _enqueue(gw: Gateway, new: store.NewRequest) -> None:
    try:
        with span("queue.send", _send_attributes(new.id), kind=SpanKind.PRODUCER):
            await gw.sender.send(job_body(request_id=new.id, tenant_id=new.tenant_id))
    except EnqueueFailed as exc:
        gw.metrics.enqueue_failures.inc()
        # Never leave the row pending forever: nothing would ever pick it up.
        try:
            await store.mark_failed(
                gw.engine, request_id=new.id, code="enqueue_failed", message=str(exc)
            )
        except DB_ERRORS as db_exc:
            raise db_unavailable(db_exc) from exc
        raise


def _insert_attributes(request_id: str) -> dict[str, str]:
    return {
        "db.operation.name": "INSERT",
        "db.collection.name": "inference_requests",
        "agatha.request_id": request_id,
    }


def _send_attributes(request_id: str) -> dict[str, str]:
    return {
        "messaging.system": "aws_sqs",
        "messaging.operation.type": "send",
        "agatha.request_id": request_id,
    }
