"""ElastiCache Redis: AUTH-token secret, parameter group, slow-log group, replication group.

The AUTH token comes from Secrets Manager's own generator (``GetRandomPassword``, a
provider call answered at deploy time), because the project carries no ``pulumi-random``
provider and a token must never be written in code or stack files. The call returns a new
value on every run, so Pulumi ignores later changes of ``authToken`` and ``secretString``:
the first value stays in force until ``agatha rotate redis-auth`` replaces it (ROTATE then
SET), which also keeps Pulumi from undoing a rotation. Pulumi stores the first value in
its state encrypted as a secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial

import pulumi
import pulumi_aws as aws

from components.config.data import DataConfig
from components.data_inputs import NetworkOutputs, spread_over_zones

REDIS_PORT = 6379
PARAMETER_GROUP_FAMILY = "redis7"
AUTH_TOKEN_LENGTH = 64
SNAPSHOT_WINDOW = "05:00-06:00"
MAINTENANCE_WINDOW = "sun:06:30-sun:07:30"


@dataclass(frozen=True)
class Cache:
    """The replication group and the secret holding its AUTH token."""

    replication_group: aws.elasticache.ReplicationGroup
    auth_secret: aws.secretsmanager.Secret


def cache_node_count(replicas: int) -> int:
    """Nodes of the single-shard group: one primary plus the replicas."""
    return 1 + replicas


def create_cache(
    name: str,
    *,
    config: DataConfig,
    network: NetworkOutputs,
    platform_key_arn: pulumi.Input[str],
    logs_key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> Cache:
    """Create the encrypted Redis replication group with its AUTH token in Secrets Manager."""
    token = _generate_token(parent)
    secret = _create_auth_secret(
        name, config=config, token=token, key_arn=platform_key_arn, tags=tags, parent=parent
    )
    parameters = aws.elasticache.ParameterGroup(
        # Auto-named, so a family change can create the new group before deleting the old.
        f"{name}-cache-params",
        family=PARAMETER_GROUP_FAMILY,
        description=f"{name}: platform cache settings",
        parameters=[
            # Rate-limit and idempotency keys carry TTLs and may be evicted under memory
            # pressure; keys without a TTL (revocations) never are.
            aws.elasticache.ParameterGroupParameterArgs(
                name="maxmemory-policy", value="volatile-lru"
            ),
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    slow_log = aws.cloudwatch.LogGroup(
        f"{name}-cache-slow-log",
        name=f"/aws/elasticache/{name}-cache/slow-log",
        retention_in_days=config.log_retention_days,
        kms_key_id=logs_key_arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    group = _create_replication_group(
        name,
        config=config,
        network=network,
        key_arn=platform_key_arn,
        token=token,
        parameter_group_name=parameters.name,
        slow_log_group=slow_log.name,
        tags=tags,
        parent=parent,
    )
    return Cache(replication_group=group, auth_secret=secret)


def _create_auth_secret(
    name: str,
    *,
    config: DataConfig,
    token: pulumi.Output[str],
    key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.secretsmanager.Secret:
    secret = aws.secretsmanager.Secret(
        f"{name}-cache-auth",
        name=f"{name}/cache/auth-token",
        description=(
            'Redis AUTH token of the platform cache as JSON {"auth_token": ...}. Rotate with '
            "`agatha rotate redis-auth`; never edit it by hand."
        ),
        kms_key_id=key_arn,
        recovery_window_in_days=config.secret_recovery_window_days,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.secretsmanager.SecretVersion(
        f"{name}-cache-auth-value",
        secret_id=secret.id,
        # JSON, the shape the app and `agatha rotate redis-auth` read (app/gateway/state.py).
        secret_string=token.apply(lambda t: json.dumps({"auth_token": t})),
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["secretString"]),
    )
    return secret


def _generate_token(parent: pulumi.Resource) -> pulumi.Output[str]:
    generated = aws.secretsmanager.get_random_password_output(
        password_length=AUTH_TOKEN_LENGTH,
        # Redis AUTH tokens refuse some punctuation (@ " /); letters and digits suffice.
        exclude_punctuation=True,
        require_each_included_type=True,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
    return pulumi.Output.secret(generated.apply(lambda result: result.random_password))


def _create_replication_group(
    name: str,
    *,
    config: DataConfig,
    network: NetworkOutputs,
    key_arn: pulumi.Input[str],
    token: pulumi.Output[str],
    parameter_group_name: pulumi.Input[str],
    slow_log_group: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.elasticache.ReplicationGroup:
    nodes = cache_node_count(config.cache_replicas)
    highly_available = config.cache_replicas >= 1
    snapshots = config.cache_snapshot_retention_days > 0
    return aws.elasticache.ReplicationGroup(
        f"{name}-cache",
        replication_group_id=f"{name}-cache",
        description=f"{name}: rate limits, idempotency and short-lived state",
        engine="redis",
        engine_version=config.cache_engine_version,
        node_type=config.cache_node_type,
        num_cache_clusters=nodes,
        port=REDIS_PORT,
        parameter_group_name=parameter_group_name,
        subnet_group_name=network.cache_subnet_group_name,
        security_group_ids=[network.cache_security_group_id],
        at_rest_encryption_enabled=True,
        kms_key_id=key_arn,
        transit_encryption_enabled=True,
        transit_encryption_mode="required",
        auth_token=token,
        automatic_failover_enabled=highly_available,
        multi_az_enabled=highly_available,
        preferred_cache_cluster_azs=_placement(network, nodes) if highly_available else None,
        snapshot_retention_limit=config.cache_snapshot_retention_days,
        snapshot_window=SNAPSHOT_WINDOW if snapshots else None,
        final_snapshot_identifier=f"{name}-cache-final" if config.protect_data else None,
        maintenance_window=MAINTENANCE_WINDOW,
        auto_minor_version_upgrade=True,
        log_delivery_configurations=[_slow_log_delivery(slow_log_group)],
        tags=tags | {"Name": f"{name}-cache"},
        opts=pulumi.ResourceOptions(
            parent=parent, protect=config.protect_data, ignore_changes=["authToken"]
        ),
    )


def _placement(network: NetworkOutputs, nodes: int) -> pulumi.Output[list[str]]:
    return pulumi.Output.from_input(network.availability_zones).apply(
        partial(spread_over_zones, count=nodes)
    )


def _slow_log_delivery(
    log_group: pulumi.Input[str],
) -> aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs:
    return aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
        destination=log_group,
        destination_type="cloudwatch-logs",
        log_format="json",
        log_type="slow-log",
    )
