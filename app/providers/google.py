"""Google Gemini ``generateContent`` through the official ``google-genai`` SDK."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import httpx
import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from app.providers._stainless import TIMEOUT_GRACE_SECONDS
from app.providers.base import (
    Completion,
    CompletionRequest,
    error_for_status,
    parse_retry_after,
    token_count,
)
from app.providers.errors import (
    ContentRefused,
    MalformedProviderResponse,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
)

# Finish reasons that mean the model declined rather than ran out of tokens.
REFUSAL_FINISH_REASONS = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
)
TRANSPORT_ERRORS = (aiohttp.ClientError, httpx.TransportError, httpx2.TransportError)


class GoogleProvider:
    """Adapter for generativelanguage.googleapis.com (or any ``base_url`` speaking it)."""

    name = "google"

    def __init__(self, *, api_key: str, base_url: str | None = None) -> None:
        self._api_key = api_key
        self._base_url = base_url

    def _client(self, timeout: float) -> genai.Client:
        # The per-call timeout lives in HttpOptions (milliseconds); clients are cheap to build.
        options = types.HttpOptions(base_url=self._base_url, timeout=int(timeout * 1000))
        return genai.Client(api_key=self._api_key, http_options=options)

    async def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        """One generateContent call; raises ``app.providers.errors`` exceptions only."""
        config = types.GenerateContentConfig(
            max_output_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stop_sequences=list(request.stop) or None,
            system_instruction=request.system,
        )
        client = self._client(timeout)
        try:
            async with asyncio.timeout(timeout + TIMEOUT_GRACE_SECONDS):
                response = await client.aio.models.generate_content(
                    model=request.model, contents=request.prompt, config=config
                )
        except Exception as exc:
            raise self._translate(exc) from exc
        finally:
            await client.aio.aclose()
        return self._parse(response, model=request.model)

    def _translate(self, exc: Exception) -> ProviderError | Exception:
        if isinstance(exc, TimeoutError | httpx.TimeoutException | httpx2.TimeoutException):
            return ProviderTimeout("google did not answer in time", provider=self.name)
        if isinstance(exc, genai_errors.APIError):
            headers = getattr(getattr(exc, "response", None), "headers", None)
            retry_after = parse_retry_after(dict(headers) if headers else None)
            message = exc.message or exc.status or str(exc)
            return error_for_status(
                exc.code, str(message), provider=self.name, retry_after=retry_after
            )
        if isinstance(exc, TRANSPORT_ERRORS):
            return ProviderConnectionError(f"cannot reach google: {exc}", provider=self.name)
        if isinstance(exc, ValueError):
            return MalformedProviderResponse(
                f"google sent a response that does not parse: {exc}", provider=self.name
            )
        return exc

    def _parse(self, response: Any, *, model: str) -> Completion:
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and feedback.block_reason:
            raise ContentRefused(
                f"google blocked the prompt: {feedback.block_reason}", provider=self.name
            )
        candidates = response.candidates or []
        if not candidates:
            raise MalformedProviderResponse("google response has no candidates", provider=self.name)
        finish = str(candidates[0].finish_reason.value) if candidates[0].finish_reason else None
        if finish in REFUSAL_FINISH_REASONS:
            raise ContentRefused(
                f"google declined to answer (finishReason={finish})", provider=self.name
            )
        usage = response.usage_metadata
        parts = candidates[0].content.parts if candidates[0].content else None
        if not parts or usage is None:
            raise MalformedProviderResponse(
                "google response lacks content or usage", provider=self.name
            )
        return Completion(
            text="".join(part.text or "" for part in parts),
            tokens_in=token_count(
                usage.prompt_token_count or 0, provider=self.name, name="promptTokenCount"
            ),
            tokens_out=token_count(
                usage.candidates_token_count or 0, provider=self.name, name="candidatesTokenCount"
            ),
            provider=self.name,
            model=model,
            finish_reason=finish,
        )

    async def aclose(self) -> None:
        """Nothing to close: a client is built and closed per call."""
