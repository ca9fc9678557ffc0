"""What the local platform emulates, built from the data layer's own definitions.

``app.local_aws`` owns the ``LocalLayout`` shape and creates the resources; this module
fills a layout from ``components/`` (secret paths, the visibility-timeout rule, the
retention constants: the code the data layer deploys with). The queue names repeat the
data layer's ``f"{name}-jobs"`` pattern; tests compare the result with the planned dev
stack and with ``app.local_aws.default_layout()``, the app's Pulumi-free copy. Settings
come from ``Pulumi.dev.yaml`` so local mirrors dev.
"""

from __future__ import annotations

from pathlib import Path

from app.local_aws import LocalLayout
from components.config.compute import ComputeConfig
from components.config.data import DataConfig
from components.published_outputs import PROVIDER_SECRETS

LOCAL_STACK = "local"
MIRRORED_STACK = "dev"


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
