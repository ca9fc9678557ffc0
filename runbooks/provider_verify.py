"""Checking a provider credential with the provider's cheapest authenticated read."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx

from runbooks.errors import VerificationFailed

PROVIDERS: tuple[str, ...] = (
    "openai",
    "anthropic",
    "together",
    "google",
    "stripe",
    "paypal",
    "sendgrid",
    "twilio",
)


@dataclass(frozen=True)
class ProviderCheck:
    """Where to send the check and how the credential is presented."""

    base_url: str
    method: str
    path: str
    scheme: str  # bearer | x-api-key | goog | basic-json


CHECKS: dict[str, ProviderCheck] = {
    "openai": ProviderCheck("https://api.openai.com", "GET", "/v1/models", "bearer"),
    "anthropic": ProviderCheck("https://api.anthropic.com", "GET", "/v1/models", "x-api-key"),
    "together": ProviderCheck("https://api.together.xyz", "GET", "/v1/models", "bearer"),
    "google": ProviderCheck(
        "https://generativelanguage.googleapis.com", "GET", "/v1beta/models", "goog"
    ),
    "stripe": ProviderCheck("https://api.stripe.com", "GET", "/v1/balance", "bearer"),
    "sendgrid": ProviderCheck("https://api.sendgrid.com", "GET", "/v3/scopes", "bearer"),
    # PayPal and Twilio credentials are JSON pairs: {"client_id","client_secret"} and
    # {"account_sid","auth_token"}.
    "paypal": ProviderCheck("https://api-m.paypal.com", "POST", "/v1/oauth2/token", "basic-json"),
    "twilio": ProviderCheck(
        "https://api.twilio.com", "GET", "/2010-04-01/Accounts/{user}.json", "basic-json"
    ),
}

_PAIRS = {"paypal": ("client_id", "client_secret"), "twilio": ("account_sid", "auth_token")}


def build_request(provider: str, value: str, *, base_url: str | None = None) -> httpx.Request:
    """The check request for ``provider`` carrying ``value`` (never logged)."""
    check = CHECKS[provider]
    headers: dict[str, str] = {}
    user = ""
    if check.scheme == "bearer":
        headers["Authorization"] = f"Bearer {value}"
    elif check.scheme == "x-api-key":
        headers.update({"x-api-key": value, "anthropic-version": "2023-06-01"})
    elif check.scheme == "goog":
        headers["x-goog-api-key"] = value
    else:
        user, password = _pair(provider, value)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    url = (base_url or check.base_url).rstrip("/") + check.path.format(user=user)
    data = {"grant_type": "client_credentials"} if provider == "paypal" else None
    return httpx.Request(check.method, url, headers=headers, data=data)


def _pair(provider: str, value: str) -> tuple[str, str]:
    first, second = _PAIRS[provider]
    try:
        parsed: dict[str, Any] = json.loads(value)
        return str(parsed[first]), str(parsed[second])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise VerificationFailed(
            f"the {provider} credential must be JSON with {first!r} and {second!r}; "
            "fix the input file and re-run"
        ) from exc


def verify_provider_key(
    provider: str, value: str, *, client: httpx.Client, base_url: str | None = None
) -> int:
    """Send the check; return the HTTP status or raise :class:`VerificationFailed`."""
    request = build_request(provider, value, base_url=base_url)
    try:
        response = client.send(request)
    except httpx.HTTPError as exc:
        raise VerificationFailed(
            f"could not reach {provider} at {request.url.host} to check the new key: "
            f"{type(exc).__name__}. Check network access or re-run without --verify."
        ) from exc
    if response.status_code in (401, 403):
        raise VerificationFailed(
            f"{provider} rejected the new key (HTTP {response.status_code}); the old key stays "
            "current. Check you pasted the right value and that it is active."
        )
    if response.status_code >= 400:
        raise VerificationFailed(
            f"{provider} answered HTTP {response.status_code} to the key check; the old key "
            "stays current. Retry later or re-run without --verify if the provider is degraded."
        )
    return response.status_code
