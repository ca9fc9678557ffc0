"""Compute layer settings: gateway service, ALB and worker function."""

from __future__ import annotations

from pydantic import Field, model_validator

from components.config.base import ConfigSection


class ComputeConfig(ConfigSection):
    """Sizes and scaling of the gateway (ECS Fargate) and the worker (Lambda)."""

    certificate_arn: str = Field(
        alias="certificateArn",
        description="ACM certificate ARN for the ALB's HTTPS listener (us-east-1).",
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

    @model_validator(mode="after")
    def _scaling_bounds(self) -> ComputeConfig:
        if not self.gateway_min_count <= self.gateway_desired_count <= self.gateway_max_count:
            raise ValueError(
                "gatewayDesiredCount: must lie between gatewayMinCount and gatewayMaxCount"
            )
        return self
