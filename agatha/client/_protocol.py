"""The wire protocol shared by the sync and async clients: requests, answers, poll timing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import httpx

from agatha.client.errors import api_error
from agatha.client.models import Inference, Result

USER_AGENT = "agatha-client/0.1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_LONG_POLL = 20.0
# The gateway caps ``wait`` at 60 s (and RESULT_WAIT_MAX_SECONDS, 20 s by default).
MAX_LONG_POLL = 60.0
DEFAULT_RETRY_AFTER = 1.0
MIN_POLL_INTERVAL = 0.05
BASE_PATH = "/api/inference"


@dataclass(frozen=True)
class Call:
    """One HTTP request to make; ``extra_timeout`` covers a long-poll's server-side hold."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra_timeout: float = 0.0


def auth_headers(api_key: str) -> dict[str, str]:
    """Headers every request carries (API key or JWT as a bearer credential)."""
    return {"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT}


def _path(request_id: str, suffix: str = "") -> str:
    return f"{BASE_PATH}/{quote(request_id, safe='')}{suffix}"


def submit_call(
    prompt: str,
    *,
    model: str,
    parameters: dict[str, Any] | None,
    idempotency_key: str | None,
) -> Call:
    body: dict[str, Any] = {"prompt": prompt, "model": model}
    if parameters:
        body["parameters"] = parameters
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return Call("POST", BASE_PATH, json=body, headers=headers)


def status_call(request_id: str) -> Call:
    return Call("GET", _path(request_id))


def cancel_call(request_id: str) -> Call:
    return Call("DELETE", _path(request_id))


def result_call(request_id: str, *, wait: float) -> Call:
    wait = max(0.0, min(wait, MAX_LONG_POLL))
    params = {"wait": f"{wait:g}"} if wait > 0 else None
    return Call("GET", _path(request_id, "/result"), params=params, extra_timeout=wait)


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the gateway sends delta-seconds), or None."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def checked_json(response: httpx.Response) -> Any:
    """The JSON body of a success, or the ApiError of a failure."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise api_error(response.status_code, body, retry_after=retry_after(response))
    if not isinstance(body, dict):
        raise api_error(
            502, {"error": {"code": "bad_gateway", "message": str(body)[:200]}}, retry_after=None
        )
    return body


def parse_inference(response: httpx.Response) -> Inference:
    return Inference.from_json(checked_json(response))


def parse_result(response: httpx.Response) -> Result | Inference:
    """200 -> Result; 202 -> the still-running Inference with its Retry-After."""
    body = checked_json(response)
    if response.status_code == 200:
        return Result.from_json(body)
    return replace(Inference.from_json(body), retry_after=retry_after(response))


def poll_wait(long_poll: float, remaining: float) -> float:
    """The ``wait`` to ask for: the long-poll, but never past the caller's deadline."""
    return max(0.0, min(long_poll, remaining, MAX_LONG_POLL))


def next_delay(*, retry_after: float | None, elapsed: float, remaining: float) -> float:
    """Sleep before the next poll: Retry-After counted from when the poll was sent.

    A long-poll that the server held for its whole ``wait`` has already waited, so the
    next poll goes out at once; a quick 202 waits out the rest of Retry-After.
    """
    wanted = max(retry_after if retry_after is not None else DEFAULT_RETRY_AFTER, MIN_POLL_INTERVAL)
    return max(0.0, min(wanted - elapsed, remaining))


def transport_message(base_url: str, exc: Exception) -> str:
    return (
        f"cannot reach the gateway at {base_url}: {exc or type(exc).__name__}; check the URL "
        "and that the platform runs (`agatha local status`)"
    )
