"""Bounded retries with exponential backoff and jitter, honouring Retry-After; fallback chain."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.providers.base import Completion, CompletionRequest, Provider
from app.providers.errors import RetryableProviderError
from app.providers.registry import ProviderRegistry

Sleep = Callable[[float], Awaitable[None]]
Jitter = Callable[[], float]
RetryHook = Callable[[RetryableProviderError, int, float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one request retries a provider inside one delivery."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0
    # A Retry-After longer than this is not slept through: the job goes back to the queue.
    max_retry_after: float = 60.0

    def delay(self, attempt: int, *, retry_after: float | None, jitter: float) -> float:
        """Seconds before attempt ``attempt + 1``: equal-jitter backoff, never below Retry-After."""
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        jittered = backoff / 2 + (backoff / 2) * jitter
        return max(jittered, retry_after or 0.0)


def _noop_hook(error: RetryableProviderError, attempt: int, delay: float) -> None:
    """Default retry hook: nothing to record."""


async def call_with_retries(
    provider: Provider,
    request: CompletionRequest,
    *,
    timeout: float,
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    jitter: Jitter = random.random,
    on_retry: RetryHook = _noop_hook,
) -> Completion:
    """Call ``provider`` until it answers, fails permanently or attempts run out."""
    attempt = 1
    while True:
        try:
            return await provider.complete(request, timeout=timeout)
        except RetryableProviderError as exc:
            too_long = (exc.retry_after or 0.0) > policy.max_retry_after
            if attempt >= policy.max_attempts or too_long:
                raise
            delay = policy.delay(attempt, retry_after=exc.retry_after, jitter=jitter())
            on_retry(exc, attempt, delay)
            await sleep(delay)
            attempt += 1


async def complete_with_fallback(
    registry: ProviderRegistry,
    request: CompletionRequest,
    *,
    fallbacks: Sequence[str],
    timeout: float,
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
    jitter: Jitter = random.random,
    on_retry: RetryHook = _noop_hook,
) -> Completion:
    """Try the requested model, then each fallback model, while failures stay retryable."""
    last_error: RetryableProviderError | None = None
    for model in (request.model, *fallbacks):
        provider = await registry.for_model(model)
        try:
            return await call_with_retries(
                provider,
                request.with_model(model),
                timeout=timeout,
                policy=policy,
                sleep=sleep,
                jitter=jitter,
                on_retry=on_retry,
            )
        except RetryableProviderError as exc:
            last_error = exc
    assert last_error is not None  # the loop ran at least once
    raise last_error
