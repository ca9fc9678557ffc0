"""Exception handlers: every error leaves as ``{"error": {code, message, field, requestId}}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import ApiError, DependencyUnavailable
from app.logging import get_logger, mask_text

LOG = get_logger("agatha.gateway.errors")


def error_response(
    request: Request,
    *,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """The one error body shape (messages masked: they may echo client input)."""
    detail: dict[str, Any] = {"code": code, "message": mask_text(message)}
    if field is not None:
        detail["field"] = field
    detail["requestId"] = request.scope.get("state", {}).get("request_id")
    return JSONResponse({"error": detail, **(extra or {})}, status_code=status, headers=headers)


def _field_of(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "header", "path")]
    return ".".join(parts) or "body"


async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(
        request,
        status=exc.status_code,
        code=exc.code,
        message=exc.message,
        field=exc.field,
        headers=exc.headers,
    )


async def on_dependency(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DependencyUnavailable)
    LOG.warning("dependency_unavailable", dependency=exc.dependency, error=str(exc))
    return error_response(
        request,
        status=503,
        code=f"{exc.dependency}_unavailable",
        message=f"{exc}; nothing was queued, retry after {exc.retry_after} s",
        headers={"Retry-After": str(exc.retry_after)},
    )


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid body"}
    field = _field_of(tuple(first.get("loc", ())))
    message = f"{field}: {first.get('msg', 'invalid value')}"
    return error_response(request, status=422, code="invalid_request", message=message, field=field)


async def on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's own 400 means the body could not be decoded (bad UTF-8, JSON too deep):
        # the contract answers every unusable body with 422 naming the field.
        return error_response(
            request,
            status=422,
            code="invalid_request",
            message="body: not decodable as UTF-8 JSON (check the encoding and nesting depth)",
            field="body",
        )
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(
        request,
        status=exc.status_code,
        code=code,
        message=str(exc.detail),
        headers=dict(exc.headers or {}),
    )


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Process edge: log the failure with its traceback, answer a generic 500.
    LOG.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
    return error_response(
        request, status=500, code="internal_error", message="internal error; retry later"
    )


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]
HANDLERS: dict[type[Exception], Handler] = {
    ApiError: on_api_error,
    DependencyUnavailable: on_dependency,
    RequestValidationError: on_validation,
    StarletteHTTPException: on_http,
    Exception: on_unexpected,
}


def install_handlers(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    for exc_class, handler in HANDLERS.items():
        app.add_exception_handler(exc_class, handler)


async def render_error(request: Request, exc: Exception) -> JSONResponse:
    """The response ``install_handlers`` gives ``exc``, for routes served outside FastAPI.

    Looked up as Starlette does: the handler of the nearest class in ``exc``'s MRO.
    """
    handler = next(HANDLERS[cls] for cls in type(exc).__mro__ if cls in HANDLERS)
    return await handler(request, exc)
