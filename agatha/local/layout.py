"""What the local platform emulates, derived from the data layer's own definitions.

Secret paths, the redrive policy, the visibility-timeout rule and the retention constants
are imported from ``components/`` (the code the data layer deploys with); the queue names
repeat the data layer's ``f"{name}-jobs"`` pattern and a test compares them with the
planned dev stack. Settings come from ``Pulumi.dev.yaml`` so local mirrors dev.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from components.config.compute import ComputeConfig
from components.config.data import DataConfig
from components.published_outputs import PROVIDER_SECRETS

LOCAL_STACK = "local"
MIRRORED_STACK = "dev"


@dataclass(frozen=True)
class LocalLayout:
    """Names and settings of the emulated queue pair, bucket and secrets."""

    prefix: str
    queue_name: str
    dlq_name: str
    archive_bucket: str
    jwt_secret_name: str
    provider_secret_names: dict[str, str]
    max_receive_count: int
    visibility_timeout_seconds: int
    queue_attributes: dict[str, str] = field(default_factory=dict)
    dlq_attributes: dict[str, str] = field(default_factory=dict)

    def redrive_policy(self, dlq_arn: str) -> str:
        """The job queue's RedrivePolicy attribute for the given DLQ."""
        from components.data_policies import redrive_policy

        return json.dumps(redrive_policy(dlq_arn=dlq_arn, max_receive_count=self.max_receive_count))

    def redrive_allow_policy(self, queue_arn: str) -> str:
        """The DLQ's RedriveAllowPolicy attribute (dead letters from our queue only)."""
        from components.data_policies import redrive_allow_policy

        return json.dumps(redrive_allow_policy(source_queue_arn=queue_arn))


def layout_for(*, service: str, data: DataConfig, worker_timeout_seconds: int) -> LocalLayout:
    """The layout the data layer would deploy for a stack named ``local``."""
    from components.data_messaging import (
        DLQ_RETENTION_SECONDS,
        LONG_POLL_SECONDS,
        visibility_timeout_seconds,
    )
    from components.data_secrets import jwt_secret_spec, provider_secret_spec
    from components.naming import base_name

    prefix = base_name(service=service, stack=LOCAL_STACK)
    visibility = visibility_timeout_seconds(worker_timeout_seconds)
    return LocalLayout(
        prefix=prefix,
        queue_name=f"{prefix}-jobs",
        dlq_name=f"{prefix}-jobs-dlq",
        # The cloud bucket gets a random suffix from Pulumi; locally a stable name suffices.
        archive_bucket=f"{prefix}-archive",
        jwt_secret_name=jwt_secret_spec(prefix).path,
        provider_secret_names={p: provider_secret_spec(prefix, p).path for p in PROVIDER_SECRETS},
        max_receive_count=data.queue_max_receive_count,
        visibility_timeout_seconds=visibility,
        queue_attributes={
            "VisibilityTimeout": str(visibility),
            "MessageRetentionPeriod": str(data.queue_retention_seconds),
            "ReceiveMessageWaitTimeSeconds": str(LONG_POLL_SECONDS),
        },
        dlq_attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
    )


def load_layout(root: Path, *, stack: str = MIRRORED_STACK) -> LocalLayout:
    """The layout mirroring ``Pulumi.<stack>.yaml`` (DataConfig defaults if it is absent)."""
    from components.config.base import read_section
    from components.config.general import GeneralConfig

    if not (root / f"Pulumi.{stack}.yaml").exists():
        return layout_for(
            service=GeneralConfig.model_fields["service"].default,
            data=DataConfig(),
            worker_timeout_seconds=ComputeConfig.model_fields["worker_timeout_seconds"].default,
        )
    from agatha.plan.stack_files import load_stack_settings

    values = load_stack_settings(root, stack).config

    def get_raw(key: str) -> str | None:
        return values.get(f"agatha:{key}")

    general = read_section(GeneralConfig, stack=stack, get_raw=get_raw)
    data = read_section(DataConfig, stack=stack, get_raw=get_raw)
    compute = read_section(ComputeConfig, stack=stack, get_raw=get_raw)
    assert isinstance(general, GeneralConfig)
    assert isinstance(data, DataConfig)
    assert isinstance(compute, ComputeConfig)
    return layout_for(
        service=general.service, data=data, worker_timeout_seconds=compute.worker_timeout_seconds
    )
