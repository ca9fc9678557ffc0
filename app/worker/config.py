"""Worker-only settings (not in app/settings.py) and the typed config the core runs with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.gc_tuning import DEFAULT_GEN0_THRESHOLD
from app.providers.retry import RetryPolicy


class WorkerSettings(BaseSettings):
    """Knobs of the worker; field names map 1:1 to upper-case environment variables."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    # Must equal the queue's redrive maxReceiveCount: the last delivery marks the request failed.
    queue_max_receive_count: int = Field(default=5, ge=1)
    # Provider calls in flight per poller (app/worker/calls.py); the poller holds up to twice
    # this (calls, plus as many jobs claiming or finishing) plus WORKER_PREFETCH messages.
    worker_concurrency: int = Field(default=8, ge=1)
    # Messages the poller may hold beyond its running jobs, so a freed slot starts the next
    # job at once and receives stay full batches (one round trip per 10 jobs, not per job).
    worker_prefetch: int = Field(default=10, ge=0, le=100)
    worker_lease_seconds: float = Field(default=120.0, gt=0)
    worker_heartbeat_seconds: float = Field(default=30.0, gt=0)
    # Poller receives hold messages this long, renewed by the heartbeat: it bounds how long a
    # crashed worker's jobs stay invisible.
    worker_visibility_timeout_seconds: int = Field(default=120, ge=1)
    worker_poll_wait_seconds: int = Field(default=20, ge=0, le=20)
    worker_shutdown_grace_seconds: float = Field(default=25.0, ge=0)
    provider_timeout_seconds: float = Field(default=60.0, gt=0)
    # A provider call cut off by a worker crash (kill -9, OOM, Lambda timeout) or by the end
    # of the shutdown grace may have been served and billed. "fail" (the default) marks the
    # request failed with worker_interrupted (never a second call; the client decides
    # whether to submit again); "retry" makes the call again (the client gets its answer;
    # the provider may be paid twice). Under "fail" the claim, made once the job holds its
    # call slot, marks the call as started: no statement more than "retry".
    worker_interrupted_calls: Literal["retry", "fail"] = "fail"
    # Young objects between garbage collections once the poller has started; the start-up
    # heap is frozen out of every collection (app/gc_tuning.py). 0 keeps CPython's defaults.
    gc_gen0_threshold: int = Field(default=DEFAULT_GEN0_THRESHOLD, ge=0)
    provider_max_attempts: int = Field(default=3, ge=1)
    provider_backoff_base_seconds: float = Field(default=0.5, ge=0)
    provider_backoff_max_seconds: float = Field(default=20.0, ge=0)
    provider_max_retry_after_seconds: float = Field(default=60.0, ge=0)
    # How often the poller closes abandoned rows (app/worker/reaper.py); 0 disables it.
    worker_reap_interval_seconds: float = Field(default=60.0, ge=0)
    # A pending row untouched this long gets its job message sent again, and so does a
    # completed row still without its archive copy (reaper.py); 0: never.
    worker_requeue_pending_after_seconds: float = Field(default=900.0, ge=0)
    # Prometheus scrape endpoint of the poller; 0 disables it (the Lambda worker has none).
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_address: str = "127.0.0.1"
    model_fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    archive_kms_key_id: str | None = None
    # Archive puts signed by botocore and sent over aiohttp (app/archive/signed_put.py), at
    # half the CPU of the S3 client's; false sends every put through the client.
    archive_signed_put: bool = True
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    together_base_url: str | None = None
    google_base_url: str | None = None

    def base_urls(self) -> dict[str, str | None]:
        """Provider endpoint overrides (tests, proxies); None means the SDK default."""
        return {
            "openai": self.openai_base_url,
            "anthropic": self.anthropic_base_url,
            "together": self.together_base_url,
            "google": self.google_base_url,
        }


@lru_cache(maxsize=1)
def get_worker_settings() -> WorkerSettings:
    """The worker's settings, read from the environment once."""
    return WorkerSettings()


@dataclass(frozen=True)
class WorkerConfig:
    """Everything the core needs to know about timing, retries and receive counts."""

    lease_seconds: float = 120.0
    heartbeat_seconds: float = 30.0
    provider_timeout: float = 60.0
    max_receive_count: int = 5
    visibility_timeout_seconds: int = 300
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # False: a call a worker died during is not made again (WORKER_INTERRUPTED_CALLS=fail).
    repeat_interrupted_calls: bool = False

    @classmethod
    def from_settings(cls, settings: WorkerSettings) -> WorkerConfig:
        return cls(
            lease_seconds=settings.worker_lease_seconds,
            heartbeat_seconds=settings.worker_heartbeat_seconds,
            provider_timeout=settings.provider_timeout_seconds,
            max_receive_count=settings.queue_max_receive_count,
            visibility_timeout_seconds=settings.worker_visibility_timeout_seconds,
            retry=RetryPolicy(
                max_attempts=settings.provider_max_attempts,
                base_delay=settings.provider_backoff_base_seconds,
                max_delay=settings.provider_backoff_max_seconds,
                max_retry_after=settings.provider_max_retry_after_seconds,
            ),
            fallbacks={k: tuple(v) for k, v in settings.model_fallbacks.items()},
            repeat_interrupted_calls=settings.worker_interrupted_calls == "retry",
        )
