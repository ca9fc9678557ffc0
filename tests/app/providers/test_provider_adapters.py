"""Each SDK adapter against the fake server: success, 429, 500, timeout, malformed, 401."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.providers.anthropic import AnthropicProvider
from app.providers.base import CompletionRequest, Provider
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
