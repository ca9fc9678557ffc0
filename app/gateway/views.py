"""Rows -> public representations (kept out of the routers so they stay thin)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from app.db.models import RequestStatus
from app.gateway.accept import Accepted
from app.gateway.handlers import error_response
from app.gateway.schemas import InferencePublic, InferenceResult, Links, Tokens

RESULT_ERROR_STATUS = {
    RequestStatus.FAILED: 424,
    RequestStatus.CANCELLED: 410,
    RequestStatus.EXPIRED: 410,
}
DEFAULT_ERROR_CODES = {
    RequestStatus.FAILED: "failed",
    RequestStatus.CANCELLED: "cancelled",
    RequestStatus.EXPIRED: "expired",
}
DEFAULT_MESSAGES = {
    RequestStatus.FAILED: "the request failed; submit it again",
    RequestStatus.CANCELLED: "the request was cancelled",
    RequestStatus.EXPIRED: "the request expired before it was processed; submit it again",
}


def public_view(row: dict[str, Any]) -> InferencePublic:
    """The status representation of a request row."""
    base = f"/api/inference/{row['id']}"
    return InferencePublic(
        id=row["id"],
        status=RequestStatus(row["status"]),
        model=row["model"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row.get("started_at"),
        completed_at=row.get("completed_at"),
        links=Links.model_validate({"self": base, "result": f"{base}/result"}),
    )


def accepted_response(outcome: Accepted, *, retry_after: int) -> JSONResponse:
    """The 202 of POST /api/inference: the status view, Location, Retry-After, limits."""
    view = public_view(outcome.row)
    headers = {"Location": view.links.self_, "Retry-After": str(retry_after)}
    headers |= outcome.rate_headers
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(view.model_dump(mode="json", by_alias=True), 202, headers=headers)


def result_response(request: Request, row: dict[str, Any], *, retry_after: int) -> JSONResponse:
    """200 with the output, 202 while in flight, or the documented error body."""
    status = RequestStatus(row["status"])
    if status is RequestStatus.COMPLETED:
        tokens_in, tokens_out = row["tokens_in"] or 0, row["tokens_out"] or 0
        result = InferenceResult(
            id=row["id"],
            model=row["model"],
            provider=row["provider"],
            response=row["response"] or "",
            tokens=Tokens(input=tokens_in, output=tokens_out, total=tokens_in + tokens_out),
            processing_time=row["processing_ms"] or 0,
            completed_at=row["completed_at"],
        )
        return JSONResponse(result.model_dump(mode="json", by_alias=True))
    if status in (RequestStatus.PENDING, RequestStatus.PROCESSING):
        body = public_view(row).model_dump(mode="json", by_alias=True)
        return JSONResponse(body, 202, headers={"Retry-After": str(retry_after)})
    return error_response(
        request,
        status=RESULT_ERROR_STATUS[status],
        code=row["error_code"] or DEFAULT_ERROR_CODES[status],
        message=row["error_message"] or DEFAULT_MESSAGES[status],
        extra={"id": row["id"], "status": status.value},
    )
