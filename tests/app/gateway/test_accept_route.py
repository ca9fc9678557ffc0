"""The plain-ASGI accept route answers exactly what the declared FastAPI route answers.

Every case goes to two gateways on the same settings: the app as built (POST
/api/inference served by ``AcceptRoute``) and the same app without that middleware
(served by FastAPI through ``routers/inference.create_inference``). Status, the headers
clients read and the body (less per-request values) must be equal.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from app.gateway import create_app
from app.gateway.accept_route import AcceptRoute
from app.gateway.routers import inference
from app.settings import Settings

GOOD = {"prompt": "Hello", "model": "local-echo", "parameters": {"maxTokens": 16}}
JSON = {"Content-Type": "application/json"}
COMPARED_HEADERS = (
    "content-type",
    "retry-after",
    "www-authenticate",
    "idempotent-replayed",
    "x-ratelimit-limit",
)
# Token buckets refill continuously: these differ by timing, so only their presence counts.
PRESENT_HEADERS = ("location", "x-ratelimit-remaining", "x-ratelimit-reset", "x-request-id")
VOLATILE = {"requestId", "id", "createdAt", "updatedAt", "links"}


@asynccontextmanager
async def serving(settings: Settings, *, hot_route: bool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    if not hot_route:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not AcceptRoute]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client


def _comparable(response: httpx.Response) -> dict[str, Any]:
    try:
        body: Any = response.json()
    except json.JSONDecodeError:
        body = response.text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE}
        if isinstance(body.get("error"), dict):
            body["error"] = {k: v for k, v in body["error"].items() if k not in VOLATILE}
    headers: dict[str, Any] = {name: response.headers.get(name) for name in COMPARED_HEADERS}
    headers |= {name: name in response.headers for name in PRESENT_HEADERS}
    return {"status": response.status_code, "headers": headers, "body": body}


Case = Callable[[str], tuple[dict[str, str], bytes]]


def _cases(bearer: Callable[[str], dict[str, str]]) -> dict[str, Case]:
    good = json.dumps(GOOD).encode()
    return {
        "accepted": lambda t: (bearer(t) | JSON, good),
        "json with charset": lambda t: (
            bearer(t) | {"Content-Type": "application/json; charset=utf-8"},
            good,
        ),
        "vendor +json type": lambda t: (
            bearer(t) | {"Content-Type": "application/vnd.agatha+json"},
            good,
        ),
        "no content type": lambda t: (bearer(t), good),
        "text/plain": lambda t: (bearer(t) | {"Content-Type": "text/plain"}, good),
        "empty body": lambda t: (bearer(t) | JSON, b""),
        "json null": lambda t: (bearer(t) | JSON, b"null"),
        "json string": lambda t: (bearer(t) | JSON, b'"hello"'),
        "json array": lambda t: (bearer(t) | JSON, b"[1, 2]"),
        "truncated json": lambda t: (bearer(t) | JSON, b'{"prompt": "Hel'),
        "bad utf-8": lambda t: (bearer(t) | JSON, b'{"prompt": "\xff\xfe\xfa"}'),
        "nesting too deep": lambda t: (bearer(t) | JSON, b"[" * 100_000),
        "missing prompt": lambda t: (bearer(t) | JSON, b'{"model": "local-echo"}'),
        "unknown field": lambda t: (bearer(t) | JSON, json.dumps(GOOD | {"x": 1}).encode()),
        "model not allowed": lambda t: (
            bearer(t) | JSON,
            json.dumps(GOOD | {"model": "gpt-9"}).encode(),
        ),
        "prompt too long": lambda t: (
            bearer(t) | JSON,
            json.dumps(GOOD | {"prompt": "x" * 32_001}).encode(),
        ),
        "control characters": lambda t: (
            bearer(t) | JSON,
            json.dumps(GOOD | {"prompt": "a\x00b"}).encode(),
        ),
        "temperature out of range": lambda t: (
            bearer(t) | JSON,
            json.dumps(GOOD | {"parameters": {"temperature": 9}}).encode(),
        ),
        "idempotency key too long": lambda t: (
            bearer(t) | JSON | {"Idempotency-Key": "k" * 201},
            good,
        ),
        "no credential, bad json": lambda t: (JSON, b"{nope"),
        "no credential, invalid body": lambda t: (JSON, b'{"model": 3}'),
        "no credential, good body": lambda t: (JSON, good),
        "not bearer": lambda t: ({"Authorization": "Basic dXNlcjpw"} | JSON, good),
        "forged token": lambda t: ({"Authorization": "Bearer e30.e30.c2ln"} | JSON, good),
        "unknown api key": lambda t: ({"Authorization": "Bearer agk_nope_nope"} | JSON, good),
    }


@pytest.fixture
async def pair(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    settings = make_settings()
    async with (
        serving(settings, hot_route=True) as hot,
        serving(settings, hot_route=False) as declared,
    ):
        yield hot, declared


async def test_every_case_answers_as_the_declared_route(harness, pair) -> None:
    hot, declared = pair
    tenant = await harness.tenant()
    for name, case in _cases(harness.user_token).items():
        headers, content = case(tenant)
        ours = await hot.post("/api/inference", content=content, headers=headers)
        theirs = await declared.post("/api/inference", content=content, headers=headers)
        assert _comparable(ours) == _comparable(theirs), name


async def test_stateful_answers_match(harness, pair) -> None:
    """Idempotent replay, key reuse with another body, the rate limit, unknown tenant."""
    seen: list[list[dict[str, Any]]] = []
    for client in pair:
        tenant = await harness.tenant(rpm=3)
        headers = harness.user_token(tenant) | {"Idempotency-Key": "same"}
        other = GOOD | {"prompt": "other"}
        answers = [
            await client.post("/api/inference", json=GOOD, headers=headers),
            await client.post("/api/inference", json=GOOD, headers=headers),
            await client.post("/api/inference", json=other, headers=headers),
            await client.post("/api/inference", json=other, headers=harness.user_token(tenant)),
            await client.post("/api/inference", json=GOOD, headers=harness.user_token("t_none")),
        ]
        seen.append([_comparable(a) for a in answers])
    hot, declared = seen
    assert [a["status"] for a in hot] == [202, 202, 422, 429, 403]
    assert hot == declared
    assert hot[1]["headers"]["idempotent-replayed"] == "true"


async def test_the_hot_route_serves_without_the_declared_endpoint(
    harness, pair, monkeypatch
) -> None:
    """The declared endpoint is not called: POST /api/inference never reaches FastAPI."""

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("FastAPI's create_inference served the request")

    monkeypatch.setattr(inference, "accept", unreachable)
    hot, declared = pair
    tenant = await harness.tenant()
    response = await hot.post("/api/inference", json=GOOD, headers=harness.user_token(tenant))
    assert response.status_code == 202, response.text
    assert response.headers["location"].startswith("/api/inference/req_")
    # The declared route does call it, so the patch is live.
    refused = await declared.post("/api/inference", json=GOOD, headers=harness.user_token(tenant))
    assert refused.status_code == 500


async def test_other_methods_and_paths_still_reach_fastapi(pair) -> None:
    hot, declared = pair
    for method, path in (
        ("GET", "/api/inference"),
        ("POST", "/api/inference/"),
        ("PUT", "/api/inference"),
    ):
        ours = await hot.request(method, path)
        theirs = await declared.request(method, path)
        assert _comparable(ours) == _comparable(theirs), (method, path)
        assert ours.status_code in (307, 401, 404, 405), (method, path, ours.status_code)
