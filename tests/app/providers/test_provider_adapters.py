"""Each SDK adapter against the fake server: success, 429, 500, timeout, malformed, 401."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from app.providers.anthropic import AnthropicProvider
from app.providers.base import CompletionRequest, Provider, token_count
from app.providers.errors import (
    ContentRefused,
    InvalidCredentials,
    MalformedProviderResponse,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
)
from app.providers.google import GoogleProvider
from app.providers.openai import OpenAIProvider
from app.providers.together import TogetherProvider
from tests.app.providers.fakes import FakeProviderServer

Factory = Callable[[str], Provider]
ADAPTERS: dict[str, Factory] = {
    "openai": lambda url: OpenAIProvider(api_key="sk-test-openai", base_url=f"{url}/v1"),
    # The together SDK's paths carry /v1 themselves; its base URL is the host root.
    "together": lambda url: TogetherProvider(api_key="tg-test", base_url=url),
    "anthropic": lambda url: AnthropicProvider(api_key="sk-ant-test", base_url=url),
    "google": lambda url: GoogleProvider(api_key="g-test", base_url=url),
}
MODELS = {
    "openai": "gpt-4o-mini",
    "together": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "anthropic": "claude-3-5-haiku",
    "google": "gemini-2.0-flash",
}
FAILURES: dict[str, type[ProviderError]] = {
    "rate_limited": ProviderRateLimited,
    "server_error": ProviderServerError,
    "timeout": ProviderTimeout,
    "malformed": MalformedProviderResponse,
    "unauthorized": InvalidCredentials,
    "refusal": ContentRefused,
}


def request_for(name: str) -> CompletionRequest:
    return CompletionRequest(model=MODELS[name], prompt="Say hello", max_tokens=32, temperature=0.2)


@pytest.mark.parametrize("name", sorted(ADAPTERS))
async def test_adapter_parses_success_and_sends_the_wire_format(
    name: str, fake_server: tuple[FakeProviderServer, str]
) -> None:
    fake, url = fake_server
    provider = ADAPTERS[name](url)
    try:
        completion = await provider.complete(request_for(name), timeout=5)
    finally:
        await provider.aclose()

    assert (completion.text, completion.tokens_in, completion.tokens_out) == ("Hello there", 5, 2)
    assert (completion.provider, completion.model) == (name, MODELS[name])
    sent = fake.requests[0]
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    if name == "google":
        assert sent["path"].endswith(f"/models/{MODELS[name]}:generateContent")
        assert sent["json"]["contents"][0]["parts"][0]["text"] == "Say hello"
        assert sent["json"]["generationConfig"]["maxOutputTokens"] == 32
        assert headers["x-goog-api-key"] == "g-test"
    elif name == "anthropic":
        assert sent["json"]["messages"] == [{"role": "user", "content": "Say hello"}]
        assert sent["path"] == "/v1/messages" and sent["json"]["max_tokens"] == 32
        assert sent["json"]["temperature"] == 0.2
        # Anthropic's SDK sends the key as x-api-key or (2.x) as a bearer token.
        sent_key = headers.get("x-api-key") or headers.get("authorization", "")
        assert sent_key.endswith("sk-ant-test")
    else:
        assert sent["json"]["messages"] == [{"role": "user", "content": "Say hello"}]
        assert sent["path"] == "/v1/chat/completions"
        assert headers["authorization"].startswith("Bearer ")


@pytest.mark.parametrize("mode", sorted(FAILURES))
@pytest.mark.parametrize("name", sorted(ADAPTERS))
async def test_adapter_maps_failures_to_retryable_or_permanent(
    name: str, mode: str, fake_server: tuple[FakeProviderServer, str]
) -> None:
    fake, url = fake_server
    fake.mode = mode
    provider = ADAPTERS[name](url)
    try:
        with pytest.raises(FAILURES[mode]) as caught:
            await provider.complete(request_for(name), timeout=0.5)
    finally:
        await provider.aclose()

    error = caught.value
    assert error.provider == name
    assert error.retryable == (mode in {"rate_limited", "server_error", "timeout"})
    if mode == "rate_limited":
        assert error.retry_after == 7.0  # type: ignore[attr-defined]
    assert len(fake.requests) == 1  # SDK retries are off: the worker owns retrying


async def test_openai_adapter_maps_a_refused_connection_to_retryable() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = OpenAIProvider(api_key="sk-test-openai", base_url=f"http://127.0.0.1:{port}/v1")
    try:
        # The SDK's aiohttp transport reports a refused connect as a connect timeout.
        with pytest.raises((ProviderConnectionError, ProviderTimeout)) as caught:
            await provider.complete(request_for("openai"), timeout=2)
    finally:
        await provider.aclose()
    assert caught.value.retryable and caught.value.provider == "openai"


async def test_openai_adapter_reuses_one_connection_across_calls(
    fake_server: tuple[FakeProviderServer, str],
) -> None:
    fake, url = fake_server
    provider = OpenAIProvider(api_key="sk-test-openai", base_url=f"{url}/v1")
    try:
        for _ in range(3):
            await provider.complete(request_for("openai"), timeout=5)
    finally:
        await provider.aclose()
    peers = {r["peer"] for r in fake.requests}
    assert len(fake.requests) == 3 and len(peers) == 1  # keep-alive: no connect per call


def _chat(**changes: Any) -> dict[str, Any]:
    """A well-formed chat completion with ``changes`` applied ('choices.0.message.x' paths)."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi", "refusal": None},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        node: Any = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return body


CHAT_ANSWERS: dict[str, tuple[Callable[[], web.Response], type[ProviderError] | None]] = {
    "no choices": (lambda: web.json_response(_chat(choices=[])), MalformedProviderResponse),
    "usage null": (lambda: web.json_response(_chat(usage=None)), MalformedProviderResponse),
    "usage without counts": (
        lambda: web.json_response(_chat(usage={"total_tokens": 7})),
        MalformedProviderResponse,
    ),
    "content null": (
        lambda: web.json_response(_chat(choices__0__message__content=None)),
        MalformedProviderResponse,
    ),
    "message missing": (
        lambda: web.json_response(_chat(choices=[{"index": 0, "finish_reason": "stop"}])),
        MalformedProviderResponse,
    ),
    "refusal text": (
        lambda: web.json_response(
            _chat(
                choices__0__message__refusal="I can't help with that",
                choices__0__message__content=None,
            )
        ),
        ContentRefused,
    ),
    "a JSON list": (lambda: web.json_response([]), MalformedProviderResponse),
    "plain text": (
        lambda: web.Response(text="Hi", content_type="text/plain"),
        MalformedProviderResponse,
    ),
    "a JSON answer sent as text/plain": (
        lambda: web.Response(text=json.dumps(_chat()), content_type="text/plain"),
        None,
    ),
    "count Infinity": (
        lambda: web.json_response(_chat(usage__prompt_tokens=float("inf"))),
        MalformedProviderResponse,
    ),
    "negative count": (
        lambda: web.json_response(_chat(usage__completion_tokens=-2)),
        MalformedProviderResponse,
    ),
    "count beyond the 32-bit column": (
        lambda: web.json_response(_chat(usage__prompt_tokens=2**31)),
        MalformedProviderResponse,
    ),
    "unknown fields and string counts": (
        lambda: web.json_response(
            _chat(
                usage={"prompt_tokens": "5", "completion_tokens": 2, "extra": {"x": 1}},
                system_fingerprint="fp",
            )
        ),
        None,
    ),
}


@pytest.mark.parametrize("answer", sorted(CHAT_ANSWERS))
@pytest.mark.parametrize("name", ["openai", "together"])
async def test_openai_format_answers_are_checked_field_by_field(
    name: str, answer: str, fake_server: tuple[FakeProviderServer, str]
) -> None:
    """Both OpenAI-format adapters read the same fields and refuse the same bad answers."""
    fake, url = fake_server
    fake.chat_answer, expected = CHAT_ANSWERS[answer]
    provider = ADAPTERS[name](url)
    try:
        if expected is None:
            completion = await provider.complete(request_for(name), timeout=5)
            assert (completion.text, completion.tokens_in, completion.tokens_out) == ("Hi", 5, 2)
            assert completion.finish_reason == "stop"
        else:
            with pytest.raises(expected) as caught:
                await provider.complete(request_for(name), timeout=5)
            assert caught.value.provider == name
            assert not caught.value.retryable
    finally:
        await provider.aclose()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (7, 7), ("7", 7), (7.0, 7), (2**31 - 1, 2**31 - 1)],
)
def test_token_count_takes_whole_numbers(value: object, expected: int) -> None:
    assert token_count(value, provider="p", name="n") == expected


@pytest.mark.parametrize(
    "value", [None, True, -1, 2**31, 1.5, float("inf"), float("nan"), "7.0", "", "²", "-1", [7]]
)
def test_token_count_refuses_what_the_usage_columns_cannot_hold(value: object) -> None:
    with pytest.raises(MalformedProviderResponse, match="expected a whole number"):
        token_count(value, provider="p", name="n")
