"""Errors raised by the AgathaAI client.

AgathaError (agatha.errors)
└── ClientError                 base of everything the client raises
    ├── TransportError          the gateway did not answer (refused, reset, timed out)
    ├── WaitTimeout             no result before the caller's deadline (request still runs)
    └── ApiError                the gateway answered 4xx/5xx: .status .code .message .field
        │                       .request_id .retry_after
        ├── BadRequest          400, 413 (body too large)
        ├── AuthenticationError 401: missing, malformed, expired or revoked credential
        ├── PermissionDenied    403: the caller lacks the role, or the tenant is unknown
        ├── NotFound            404: no such request for this tenant
        ├── RequestGone         410: the request was cancelled or expired
        ├── ValidationError     422: a field broke a limit (.field), or idempotency conflict
        ├── RequestFailed       424: the worker gave up on the request
        ├── RateLimited         429: see .retry_after
        └── ServerError         5xx: the platform or a dependency is down; see .retry_after
"""

from __future__ import annotations

from typing import Any

from agatha.errors import AgathaError


class ClientError(AgathaError):
    """Base of the client's errors."""


class TransportError(ClientError):
    """The gateway could not be reached or did not answer in time."""


class WaitTimeout(ClientError):
    """The result was not ready before the deadline; the request keeps running."""

    def __init__(self, message: str, *, request_id: str) -> None:
        super().__init__(message)
        self.request_id = request_id


class ApiError(ClientError):
    """The gateway answered with an error status and the documented error body."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        field: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.request_id = request_id
        self.retry_after = retry_after


class BadRequest(ApiError):
    """400 or 413."""


class AuthenticationError(ApiError):
    """401."""


class PermissionDenied(ApiError):
    """403."""


class NotFound(ApiError):
    """404."""


class RequestGone(ApiError):
    """410: cancelled or expired."""


class ValidationError(ApiError):
    """422."""


class RequestFailed(ApiError):
    """424."""


class RateLimited(ApiError):
    """429."""


class ServerError(ApiError):
    """5xx."""


ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    410: RequestGone,
    422: ValidationError,
    424: RequestFailed,
    429: RateLimited,
}


def api_error(status: int, body: Any, *, retry_after: float | None) -> ApiError:
    """The exception for an error answer (tolerates bodies that are not ours)."""
    detail = body.get("error") if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        detail = {"code": "http_error", "message": str(body)[:500] or "no body"}
    cls = ERRORS_BY_STATUS.get(status) or (ServerError if status >= 500 else BadRequest)
    return cls(
        str(detail.get("message", "")),
        status=status,
        code=str(detail.get("code", "http_error")),
        field=detail.get("field"),
        request_id=detail.get("requestId"),
        retry_after=retry_after,
    )
