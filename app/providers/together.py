"""Together AI chat completions (OpenAI-compatible wire format) through the ``together`` SDK."""

from __future__ import annotations

from typing import Any

import together

from app.providers._stainless import guarded_call, parse_chat_completion
from app.providers.base import Completion, CompletionRequest
from app.providers.openai import chat_messages, sampling_kwargs


class TogetherProvider:
    """Adapter for api.together.xyz (or any ``base_url`` speaking the same API)."""

    name = "together"

    def __init__(self, *, api_key: str, base_url: str | None = None) -> None:
        self._client = together.AsyncTogether(api_key=api_key, base_url=base_url, max_retries=0)

    async def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        """One chat completion; raises ``app.providers.errors`` exceptions only."""

        async def call() -> Any:
            return await self._client.chat.completions.create(
                model=request.model,
                messages=chat_messages(request),  # type: ignore[arg-type]
                max_tokens=request.max_tokens,
                timeout=timeout,
                **sampling_kwargs(request),
            )

        response = await guarded_call(call, sdk=together, provider=self.name, timeout=timeout)
        return parse_chat_completion(response, provider=self.name, model=request.model)

    async def aclose(self) -> None:
        await self._client.close()
