"""Errors raised by the app (gateway side); the worker keeps its own in app/worker/.

AgathaError
├── ConfigurationError        settings or secrets unusable: fix the environment, restart
├── DependencyUnavailable     database, Redis or queue unreachable: retry later (503)
│   └── EnqueueFailed         the queue refused the job message
└── ApiError                  a client-facing error with HTTP status and stable code
    ├── AuthenticationFailed  401: missing, malformed, expired or revoked credentials
    ├── PermissionDenied      403: authenticated but lacks the role
    ├── NotFound              404: unknown id, or another tenant's (no existence leak)
    ├── ValidationFailed      422: a field broke a documented limit
    ├── IdempotencyConflict   422: same Idempotency-Key, different body
    ├── PayloadTooLarge       413: request body over MAX_BODY_BYTES
    └── RateLimited           429: a per-tenant or per-key limit is exhausted
"""

from __future__ import annotations


class AgathaError(Exception):
    """Base of every error the app raises on purpose."""


class ConfigurationError(AgathaError):
    """The settings or a secret cannot be used; the message names the variable to fix."""


class DependencyUnavailable(AgathaError):
    """A backing service (database, Redis, queue) did not answer; retry later."""

    def __init__(self, message: str, *, dependency: str, retry_after: int = 2) -> None:
        super().__init__(message)
        self.dependency = dependency
        self.retry_after = retry_after


class EnqueueFailed(DependencyUnavailable):
    """The queue did not accept the job message."""

    def __init__(self, message: str) -> None:
        super().__init__(message, dependency="queue")


class ApiError(AgathaError):
    """An error answered to the client as ``{"error": {"code", "message", ...}}``."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}
        if code is not None:
            self.code = code


class AuthenticationFailed(ApiError):
    status_code = 401
    code = "unauthenticated"


class PermissionDenied(ApiError):
    status_code = 403
    code = "forbidden"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class ValidationFailed(ApiError):
    status_code = 422
    code = "invalid_request"


class IdempotencyConflict(ApiError):
    status_code = 422
    code = "idempotency_key_reused"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(ApiError):
    status_code = 429
    code = "rate_limited"
