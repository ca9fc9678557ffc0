"""A deterministic local provider: the embedded default, no key, no network."""

from __future__ import annotations

import hashlib

from app.providers.base import Completion, CompletionRequest


class LocalProvider:
    """Answers with a stable digest of the prompt; tokens are whitespace-separated words."""

    name = "local"

    async def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        """Same prompt and model, same answer; never fails, never waits."""
        digest = hashlib.sha256(f"{request.model}\n{request.prompt}".encode()).hexdigest()[:16]
        words = request.prompt.split()
        text = f"[{request.model}] {len(words)} words, digest {digest}"
        tokens_out = min(len(text.split()), request.max_tokens)
        return Completion(
            text=text,
            tokens_in=len(words),
            tokens_out=tokens_out,
            provider=self.name,
            model=request.model,
            finish_reason="stop",
        )

    async def aclose(self) -> None:
        """Nothing to release."""
