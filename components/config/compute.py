"""Compute layer settings: gateway service, ALB and worker function."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import ConfigSection

# ECR tag grammar; digests pin the exact image the delivery pipeline built.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class ComputeConfig(ConfigSection):
    """Sizes and scaling of the gateway (ECS Fargate) and the worker (Lambda)."""

    certificate_arn: str = Field(
        alias="certificateArn",
        description="ACM certificate ARN for the ALB's HTTPS listener (same region as the stack).",
    )
    gateway_image_tag: str = Field(
        default="0.1.0",
        alias="gatewayImageTag",
        description="Immutable ECR tag or sha256 digest of the gateway image to deploy.",
    )
    gateway_cpu: int = Field(
        default=512, alias="gatewayCpu", description="Fargate task CPU units (256-4096)."
    )
    gateway_memory: int = Field(
        default=1024, alias="gatewayMemory", description="Fargate task memory in MiB."
    )
    gateway_desired_count: int = Field(
        default=1, ge=1, alias="gatewayDesiredCount", description="Initial gateway task count."
    )
    gateway_min_count: int = Field(
        default=1, ge=1, alias="gatewayMinCount", description="Autoscaling minimum task count."
    )
    gateway_max_count: int = Field(
        default=4, ge=1, alias="gatewayMaxCount", description="Autoscaling maximum task count."
    )
    gateway_cpu_target: int = Field(
        default=60,
        ge=10,
        le=95,
        alias="gatewayCpuTarget",
        description="Target average CPU percent for gateway autoscaling.",
    )
    gateway_requests_per_target: int = Field(
        default=1000,
        ge=1,
        alias="gatewayRequestsPerTarget",
        description="Target ALB requests per task per minute for autoscaling.",
    )
    alb_deletion_protection: bool = Field(
        default=False,
        alias="albDeletionProtection",
        description="Deletion protection on the ALB (true in prod).",
    )
    worker_memory_mb: int = Field(
        default=512, ge=128, le=10240, alias="workerMemoryMb", description="Lambda memory in MB."
    )
    worker_timeout_seconds: int = Field(
        default=120,
        ge=10,
        le=900,
        alias="workerTimeoutSeconds",
        description="Lambda timeout; the queue visibility timeout is 6x this.",
    )
    worker_batch_size: int = Field(
        default=10, ge=1, le=10000, alias="workerBatchSize", description="SQS batch size."
    )
    worker_batch_window_seconds: int = Field(
        default=1,
        ge=0,
        le=300,
        alias="workerBatchWindowSeconds",
        description="Maximum batching window in seconds.",
    )
    worker_max_concurrency: int = Field(
        default=10,
        ge=2,
        le=1000,
        alias="workerMaxConcurrency",
        description="SQS event source maximum concurrency (2-1000).",
    )
    worker_reserved_concurrency: int = Field(
        default=-1,
        ge=-1,
        alias="workerReservedConcurrency",
        description="Reserved concurrency of the worker (-1 leaves it unreserved).",
    )
    worker_interrupted_calls: Literal["retry", "fail"] = Field(
        default="fail",
        alias="workerInterruptedCalls",
        description=(
            "A provider call cut off by a worker crash or timeout: 'fail' (default) fails "
            "the request with worker_interrupted, never calling twice; 'retry' makes it "
            "again (the provider may bill twice)."
        ),
    )
    worker_archive_signed_put: bool = Field(
        default=True,
        alias="workerArchiveSignedPut",
        description=(
            "Archive puts signed by botocore and sent over aiohttp (half the CPU of the S3 "
            "client's; any refusal falls back to the client). false: every put via the client."
        ),
    )
    worker_gc_gen0_threshold: int = Field(
        default=20_000,
        ge=0,
        alias="workerGcGen0Threshold",
        description=(
            "Young objects between the worker's garbage collections once started, its start-up "
            "heap frozen out of them (app/gc_tuning.py); 0 keeps CPython's defaults."
        ),
    )

    worker_bundle_path: str = Field(
        default="",
        alias="workerBundlePath",
        description=(
            "Zip file or folder with the built worker bundle; empty archives the app/ folder."
        ),
    )
    jwt_issuer: str = Field(
        default="https://api.agatha.ai",
        min_length=1,
        alias="jwtIssuer",
        description="Issuer (iss) the gateway puts in and expects from its JWTs.",
    )
    jwt_audience: str = Field(
        default="agatha-api",
        min_length=1,
        alias="jwtAudience",
        description="Audience (aud) the gateway puts in and expects from its JWTs.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        alias="logLevel",
        description="LOG_LEVEL of the gateway and the worker (DEBUG, INFO, WARNING, ERROR).",
    )

    @field_validator("gateway_image_tag")
    @classmethod
    def _immutable_image_reference(cls, value: str) -> str:
        if value.startswith("sha256:"):
            if not _DIGEST.fullmatch(value):
                raise ValueError("a digest must be sha256: followed by 64 lower-case hex digits")
        elif not _TAG.fullmatch(value) or value == "latest":
            raise ValueError(
                "use an immutable release tag (letters, digits, '.', '_', '-'; not 'latest')"
            )
        return value

    @model_validator(mode="after")
    def _scaling_bounds(self) -> ComputeConfig:
        if not self.gateway_min_count <= self.gateway_desired_count <= self.gateway_max_count:
            raise ValueError(
                "gatewayDesiredCount: must lie between gatewayMinCount and gatewayMaxCount"
            )
        if 0 <= self.worker_reserved_concurrency < self.worker_max_concurrency:
            # The event source would keep polling batches the function may not run.
            raise ValueError(
                "workerReservedConcurrency: must be -1 (unreserved) or at least "
                "workerMaxConcurrency"
            )
        if self.worker_batch_size > 10 and self.worker_batch_window_seconds < 1:
            raise ValueError(
                "workerBatchWindowSeconds: batches above 10 messages need a window of 1s or more"
            )
        return self
