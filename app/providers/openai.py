"""OpenAI chat completions through the official ``openai`` SDK."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import openai

from app.providers._stainless import guarded_call, parse_chat_completion
from app.providers.base import Completion, CompletionRequest


def chat_messages(request: CompletionRequest) -> list[dict[str, str]]:
    """The OpenAI-format message list for one prompt (shared with Together)."""
    messages = [{"role": "system", "content": request.system}] if request.system else []
    return [*messages, {"role": "user", "content": request.prompt}]


def sampling_kwargs(request: CompletionRequest) -> dict[str, Any]:
    """Optional sampling parameters, only when set (so provider defaults apply)."""
    kwargs: dict[str, Any] = {}
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.top_p is not None:
        kwargs["top_p"] = request.top_p
    if request.stop:
        kwargs["stop"] = list(request.stop)
    return kwargs


class OpenAIProvider:
    """Adapter for api.openai.com (or any ``base_url`` speaking the same API)."""

    name = "openai"

    def __init__(self, *, api_key: str, base_url: str | None = None) -> None:
        # Retries are the worker's job (metrics, Retry-After, fallback), so the SDK's are off.
        # The SDK's aiohttp transport: ~2.0 ms CPU per call against ~3.5 ms on its default
        # httpx pool at the worker's concurrency (docs/benchmarks.md, worker throughput).
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )

    async def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        """One chat completion; raises ``app.providers.errors`` exceptions only.

        Sent with the SDK's ``post`` (its documented way to call any route) rather than
        ``chat.completions.create``: the same request, auth and errors, without create's
        walk over its typed parameters. That walk only renames aliased keys and drops
        omitted ones (none of ours), yet cost ~0.6 of the 2.1 ms of CPU per call against
        bench/fakes.py: a tenth of the poller's CPU per job.

        The answer comes back as the decoded JSON (``cast_to=object``, which the SDK
        returns as is) and ``parse_chat_completion`` reads the five fields it needs. The
        SDK's ``ChatCompletion`` model would be built without validation anyway
        (``construct``), at ~0.2 ms of CPU per call here (bench/microbench.py,
        ``provider answer``), for fields nobody reads.
        """
        body = {
            "model": request.model,
            "messages": chat_messages(request),
            "max_completion_tokens": request.max_tokens,
            **sampling_kwargs(request),
        }

        async def call() -> object:
            return await self._client.post(
                "/chat/completions",
                body=body,
                cast_to=object,
                options={"timeout": timeout, "security": {"bearer_auth": True}},
            )

        response = await guarded_call(call, sdk=openai, provider=self.name, timeout=timeout)
        if isinstance(response, str):
            # The SDK hands back the text when the Content-Type is not JSON (some compatible
            # servers send none); its model path read such a body as JSON anyway.
            with contextlib.suppress(ValueError):
                response = json.loads(response)
        return parse_chat_completion(response, provider=self.name, model=request.model)

    async def aclose(self) -> None:
        await self._client.close()
