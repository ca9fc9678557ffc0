"""Errors raised by provider adapters; the worker decides retry vs fail from the class.

ProviderError                      anything a provider call can fail with (code, provider)
├── RetryableProviderError         try again later; ``retry_after`` seconds when known
│   ├── ProviderRateLimited        429: the provider asked us to slow down
│   ├── ProviderServerError        5xx/408/409: the provider failed on its side
│   ├── ProviderTimeout            no answer within the per-call timeout
│   └── ProviderConnectionError    DNS, TCP or TLS failure reaching the provider
└── PermanentProviderError         retrying cannot help; the request fails at once
    ├── InvalidCredentials         401/403 or no key configured: fix the key/secret
    ├── InvalidProviderRequest     400/404/422: the prompt or parameters were refused
    ├── ContentRefused             the model declined on policy/safety grounds
    ├── MalformedProviderResponse  a 2xx answer that does not parse as the wire format
    └── UnknownModel               the model is not in the catalogue
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every provider failure; ``code`` is stored as the request's error_code."""

    code = "provider_error"
    retryable = False

    def __init__(self, message: str, *, provider: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status


class RetryableProviderError(ProviderError):
    """A transient failure: retry with backoff, honouring ``retry_after`` when given."""

    code = "provider_unavailable"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class ProviderRateLimited(RetryableProviderError):
    code = "provider_rate_limited"


class ProviderServerError(RetryableProviderError):
    code = "provider_server_error"


class ProviderTimeout(RetryableProviderError):
    code = "provider_timeout"


class ProviderConnectionError(RetryableProviderError):
    code = "provider_connection_error"


class PermanentProviderError(ProviderError):
    """Retrying cannot succeed; the request is failed with this code and message."""

    code = "provider_rejected"


class InvalidCredentials(PermanentProviderError):
    code = "provider_auth_failed"


class InvalidProviderRequest(PermanentProviderError):
    code = "provider_invalid_request"


class ContentRefused(PermanentProviderError):
    code = "content_refused"


class MalformedProviderResponse(PermanentProviderError):
    code = "provider_bad_response"


class UnknownModel(PermanentProviderError):
    code = "unknown_model"
