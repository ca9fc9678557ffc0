"""Anthropic messages through the official ``anthropic`` SDK."""

from __future__ import annotations

from typing import Any

import anthropic

from app.providers._stainless import guarded_call
from app.providers.base import Completion, CompletionRequest, token_count
from app.providers.errors import ContentRefused, MalformedProviderResponse


class AnthropicProvider:
    """Adapter for api.anthropic.com (or any ``base_url`` speaking the same API)."""

    name = "anthropic"

    def __init__(self, *, api_key: str, base_url: str | None = None) -> None:
        # aiohttp transport: cheaper per call than httpx's pool at high concurrency.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            max_retries=0,
            http_client=anthropic.DefaultAioHttpClient(),
        )

    async def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        """One message; raises ``app.providers.errors`` exceptions only."""
        kwargs: dict[str, Any] = {}
        if request.system:
            kwargs["system"] = request.system
        # This SDK release no longer names the sampling fields; the API still takes them.
        sampling = {"temperature": request.temperature, "top_p": request.top_p}
        extra_body = {k: v for k, v in sampling.items() if v is not None}
        if extra_body:
            kwargs["extra_body"] = extra_body
        if request.stop:
            kwargs["stop_sequences"] = list(request.stop)

        async def call() -> Any:
            return await self._client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens,
                messages=[{"role": "user", "content": request.prompt}],
                timeout=timeout,
                **kwargs,
            )

        response = await guarded_call(call, sdk=anthropic, provider=self.name, timeout=timeout)
        return self._parse(response, model=request.model)

    def _parse(self, response: Any, *, model: str) -> Completion:
        try:
            stop_reason = response.stop_reason
            texts = [block.text for block in response.content if block.type == "text"]
            usage = response.usage
            tokens_in = token_count(usage.input_tokens, provider=self.name, name="input_tokens")
            tokens_out = token_count(usage.output_tokens, provider=self.name, name="output_tokens")
        except (AttributeError, TypeError, ValueError) as exc:
            raise MalformedProviderResponse(
                f"anthropic message lacks content/usage: {exc}", provider=self.name
            ) from exc
        if stop_reason == "refusal":
            raise ContentRefused(
                "anthropic refused to answer (stop_reason=refusal)", provider=self.name
            )
        if not texts:
            raise MalformedProviderResponse(
                "anthropic message has no text block", provider=self.name
            )
        return Completion(
            text="".join(texts),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            provider=self.name,
            model=model,
            finish_reason=stop_reason,
        )

    async def aclose(self) -> None:
        await self._client.close()
