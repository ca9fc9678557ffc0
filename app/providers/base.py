"""What every provider adapter takes and returns, and the HTTP-status classification they share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from app.providers.errors import (
    InvalidCredentials,
    InvalidProviderRequest,
    MalformedProviderResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderServerError,
)

DEFAULT_MAX_TOKENS = 1024


@dataclass(frozen=True)
class CompletionRequest:
    """One prompt for one model; parameters are the gateway's ``parameters`` object."""

    model: str
    prompt: str
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    system: str | None = None

    @classmethod
    def from_parameters(
        cls, *, model: str, prompt: str, parameters: Mapping[str, Any] | None
    ) -> CompletionRequest:
        """Build from the stored request row (unknown parameter names are ignored)."""
        params = dict(parameters or {})
        stop = params.get("stop") or ()
        return cls(
            model=model,
            prompt=prompt,
            max_tokens=int(params.get("max_tokens") or DEFAULT_MAX_TOKENS),
            temperature=_optional_float(params.get("temperature")),
            top_p=_optional_float(params.get("top_p")),
            stop=(stop,) if isinstance(stop, str) else tuple(str(s) for s in stop),
            system=params.get("system"),
        )

    def with_model(self, model: str) -> CompletionRequest:
        """The same request for another model (fallback chain)."""
        return CompletionRequest(
            model=model,
            prompt=self.prompt,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=self.stop,
            system=self.system,
        )


@dataclass(frozen=True)
class Completion:
    """A provider's answer, normalised."""

    text: str
    tokens_in: int
    tokens_out: int
    provider: str
    model: str
    finish_reason: str | None = None


class Provider(Protocol):
    """An LLM provider adapter; raises only ``app.providers.errors`` exceptions."""

    name: str

    async def complete(self, request: CompletionRequest, *, timeout: float) -> Completion: ...

    async def aclose(self) -> None: ...


# The usage columns (inference_requests.tokens_*, usage_events.tokens_*) are 32-bit.
MAX_TOKEN_COUNT = 2**31 - 1


def _spells_whole_number(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()  # False for inf and nan
    return isinstance(value, str) and value.isascii() and value.isdigit()


def token_count(value: Any, *, provider: str, name: str) -> int:
    """A provider's token count, checked: a whole number from 0 to ``MAX_TOKEN_COUNT``.

    Digit strings and integral floats are accepted as the number they spell. Anything else
    (a bool, a fraction, a negative or oversized number, ``Infinity``) is a malformed
    answer now, not a failed database write after the provider has been paid (which would
    send the job round again and call the provider a second time).
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif _spells_whole_number(value):
        number = int(value)
    if number is None or not 0 <= number <= MAX_TOKEN_COUNT:
        raise MalformedProviderResponse(
            f"{provider} reported {name}={value!r}; expected a whole number from 0 to "
            f"{MAX_TOKEN_COUNT}",
            provider=provider,
        )
    return number


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: datetime | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms``/``Retry-After`` (seconds or HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_for_status(
    status: int, message: str, *, provider: str, retry_after: float | None = None
) -> ProviderError:
    """Map an HTTP error status to retryable or permanent (shared by every adapter)."""
    text = f"{provider} answered HTTP {status}: {message}"
    if status == 429:
        return ProviderRateLimited(text, provider=provider, status=status, retry_after=retry_after)
    if status >= 500 or status in (408, 409):
        return ProviderServerError(text, provider=provider, status=status, retry_after=retry_after)
    if status in (401, 403):
        return InvalidCredentials(
            f"{text}; check the {provider} API key (secret or env override)",
            provider=provider,
            status=status,
        )
    return InvalidProviderRequest(text, provider=provider, status=status)
