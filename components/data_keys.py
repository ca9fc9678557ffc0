"""KMS customer keys of the data layer: the platform key and the CloudWatch Logs key."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import data_policies

KEY_DELETION_WINDOW_DAYS = 30
KEY_ROTATION_PERIOD_DAYS = 365


@dataclass(frozen=True)
class AwsContext:
    """Account, region and partition of the deployment, as the provider reports them."""

    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]

    @classmethod
    def lookup(cls, parent: pulumi.Resource) -> AwsContext:
        """Ask the provider once; every policy document is rendered from these values."""
        opts = pulumi.InvokeOutputOptions(parent=parent)
        return cls(
            account_id=aws.get_caller_identity_output(opts=opts).account_id,
            region=aws.get_region_output(opts=opts).region,
            partition=aws.get_partition_output(opts=opts).partition,
        )

    def render(
        self, build: Callable[..., dict[str, Any]], **arns: pulumi.Input[str]
    ) -> pulumi.Output[str]:
        """JSON of ``build(account_id=..., region=..., partition=..., **arns)`` once known.

        ``build`` receives only the keyword arguments it declares, so one helper serves
        every document in ``data_policies``.
        """
        wanted = set(inspect.signature(build).parameters)
        known: dict[str, pulumi.Input[str]] = {
            "account_id": self.account_id,
            "region": self.region,
            "partition": self.partition,
            **arns,
        }
        inputs = {k: v for k, v in known.items() if k in wanted}
        return pulumi.Output.all(**inputs).apply(lambda values: json.dumps(build(**values)))


@dataclass(frozen=True)
class DataKeys:
    """The two customer keys and their aliases."""

    platform: aws.kms.Key
    logs: aws.kms.Key


def create_keys(
    name: str,
    *,
    context: AwsContext,
    tags: dict[str, str],
    protect: bool,
    parent: pulumi.Resource,
) -> DataKeys:
    """Create the platform and logs CMKs with rotation, explicit policies and aliases."""
    platform = _key(
        f"{name}-platform-key",
        description=f"{name}: Aurora, S3 archive, SQS, SNS and Secrets Manager",
        policy=context.render(data_policies.platform_key_policy),
        alias=f"alias/{name}/platform",
        tags=tags,
        protect=protect,
        parent=parent,
    )
    logs = _key(
        f"{name}-logs-key",
        description=f"{name}: CloudWatch Logs groups of the platform",
        policy=context.render(data_policies.logs_key_policy),
        alias=f"alias/{name}/logs",
        tags=tags,
        protect=protect,
        parent=parent,
    )
    return DataKeys(platform=platform, logs=logs)


def _key(
    resource_name: str,
    *,
    description: str,
    policy: pulumi.Input[str],
    alias: str,
    tags: dict[str, str],
    protect: bool,
    parent: pulumi.Resource,
) -> aws.kms.Key:
    key = aws.kms.Key(
        resource_name,
        description=description,
        key_usage="ENCRYPT_DECRYPT",
        customer_master_key_spec="SYMMETRIC_DEFAULT",
        enable_key_rotation=True,
        rotation_period_in_days=KEY_ROTATION_PERIOD_DAYS,
        deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
        policy=policy,
        tags=tags | {"Name": resource_name},
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    aws.kms.Alias(
        f"{resource_name}-alias",
        name=alias,
        target_key_id=key.key_id,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return key
