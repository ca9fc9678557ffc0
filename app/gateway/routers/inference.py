"""POST/GET/DELETE /api/inference: the 202-and-poll contract."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from app.db import requests as store
from app.db.models import RequestStatus
from app.errors import NotFound
from app.gateway.accept import DB_ERRORS, accept, db_unavailable
from app.gateway.deps import AcceptContextDep, GatewayDep, IdempotencyKeyDep, PrincipalDep
from app.gateway.schemas import ErrorBody, InferenceCreate, InferencePublic, InferenceResult
from app.gateway.state import Gateway
from app.gateway.views import accepted_response, public_view, result_response

# Without a notification channel the long-poll re-reads the row on a short backoff; with
# one it re-reads only this often, as a safety net for a lost notification.
POLL_FIRST_DELAY = 0.05
POLL_MAX_DELAY = 0.5
NOTIFIED_RECHECK_SECONDS = 2.0


router = APIRouter(prefix="/api/inference", tags=["inference"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, malformed, expired or revoked credential."},
    404: {"model": ErrorBody, "description": "No such request for this tenant."},
    503: {"model": ErrorBody, "description": "Database or queue unavailable; see Retry-After."},
}
ACCEPT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"model": ErrorBody, "description": "Tenant not registered."},
    413: {"model": ErrorBody, "description": "Body larger than MAX_BODY_BYTES (256 KiB)."},
    422: {
        "model": ErrorBody,
        "description": "A field broke a limit (the message names field and limit), or an "
        "Idempotency-Key was reused with a different body. Nothing is queued.",
    },
    429: {
        "model": ErrorBody,
        "description": "Tenant or key requests/tokens per minute exhausted; see Retry-After "
        "and X-RateLimit-Limit/Remaining/Reset.",
    },
}
RESULT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    202: {"model": InferencePublic, "description": "Still pending/processing; see Retry-After."},
    410: {"model": ErrorBody, "description": "The request was cancelled or expired."},
    424: {"model": ErrorBody, "description": "The request failed (provider or enqueue error)."},
}


@router.post(
    "",
    status_code=202,
    response_model=InferencePublic,
    responses=ACCEPT_ERRORS,
    summary="Submit a prompt; answers 202 with Location and Retry-After",
    # The bearer header is read by the flat AcceptContextDep (see deps.get_accept_context).
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def create_inference(
    body: InferenceCreate,
    ctx: AcceptContextDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    # The declared contract (OpenAPI, and the reference that tests compare against):
    # requests are served by app.gateway.accept_route, which answers the same.
    outcome = await accept(ctx.gw, ctx.principal, body, idempotency_key)
    return accepted_response(outcome, retry_after=ctx.gw.settings.poll_retry_after_seconds)


async def _load(gw: Gateway, tenant_id: str, request_id: str) -> dict[str, Any]:
    try:
        row = await store.get_for_tenant(gw.engine, tenant_id=tenant_id, request_id=request_id)
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    if row is None:
        raise NotFound(f"no inference request {request_id[:40]!r} for this tenant")
    return row


@router.get("/{request_id}", response_model=InferencePublic, responses=ERRORS)
async def get_inference(request_id: str, gw: GatewayDep, principal: PrincipalDep) -> Any:
    """Status and timestamps of one request."""
    return public_view(await _load(gw, principal.tenant_id, request_id))


@router.get(
    "/{request_id}/result",
    response_model=InferenceResult,
    responses=RESULT_ERRORS,
    summary="The result: 200 when completed, 202 while pending/processing",
)
async def get_result(
    request: Request,
    request_id: str,
    gw: GatewayDep,
    principal: PrincipalDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=60,
            description="Long-poll up to this many seconds (capped by "
            "RESULT_WAIT_MAX_SECONDS, default 20) for a terminal status.",
        ),
    ] = 0,
) -> Response:
    deadline = time.monotonic() + min(wait, gw.settings.result_wait_max_seconds)
    notifier = gw.notifier
    with notifier.watch(request_id) as done:  # before the first read: no missed wake-up
        row = await _load(gw, principal.tenant_id, request_id)
        delay = NOTIFIED_RECHECK_SECONDS if notifier.live else POLL_FIRST_DELAY
        while row["status"] in (RequestStatus.PENDING, RequestStatus.PROCESSING):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (not notifier.live and delay > remaining):
                break
            await done.wait(min(delay, remaining))
            if not notifier.live:
                delay = min(delay * 2, POLL_MAX_DELAY)
            row = await _load(gw, principal.tenant_id, request_id)
    return result_response(request, row, retry_after=gw.settings.poll_retry_after_seconds)


@router.delete("/{request_id}", response_model=InferencePublic, responses=ERRORS)
async def cancel_inference(request_id: str, gw: GatewayDep, principal: PrincipalDep) -> Any:
    """Best-effort cancel: the worker checks the status before calling the provider."""
    try:
        row = await store.cancel(gw.engine, tenant_id=principal.tenant_id, request_id=request_id)
    except DB_ERRORS as exc:
        raise db_unavailable(exc) from exc
    if row is None:
        raise NotFound(f"no inference request {request_id[:40]!r} for this tenant")
    return public_view(row)
