"""Aurora PostgreSQL: cluster parameter group, log group, cluster and its instances."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config.data import DataConfig
from components.data_inputs import NetworkOutputs, nth_zone

POSTGRES_PORT = 5432
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier; longer costs per vCPU
SERVERLESS_INSTANCE_CLASS = "db.serverless"
ENGINE = "aurora-postgresql"

# force_ssl is the point; the logging settings make the exported postgresql log useful
# (slow statements, DDL, connections, lock waits) without logging every query's text.
CLUSTER_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("rds.force_ssl", "1"),
    ("ssl_min_protocol_version", "TLSv1.2"),
    ("log_connections", "1"),
    ("log_disconnections", "1"),
    ("log_lock_waits", "1"),
    ("log_statement", "ddl"),
    ("log_min_duration_statement", "1000"),
)


@dataclass(frozen=True)
class Database:
    """The cluster and its instances."""

    cluster: aws.rds.Cluster
    instances: list[aws.rds.ClusterInstance]
    master_secret_arn: pulumi.Output[str]


def parameter_group_family(engine_version: str) -> str:
    """``aurora-postgresql16`` for engine version ``16.4``."""
    match = re.fullmatch(r"(\d+)\.\d+", engine_version)
    if match is None:
        raise ValueError(
            f"dbEngineVersion {engine_version!r} is not major.minor; write it like 16.4"
        )
    return f"{ENGINE}{match.group(1)}"


def cluster_identifier(name: str) -> str:
    """Physical identifier of the Aurora cluster (also names its RDS log group)."""
    return f"{name}-db"


def first_secret_arn(secrets: Sequence[Any] | None) -> str:
    """ARN of the RDS-managed master secret from the cluster's ``master_user_secrets``."""
    if not secrets:
        return ""
    first = secrets[0]
    if isinstance(first, dict):
        return str(first.get("secret_arn") or first.get("secretArn") or "")
    return str(getattr(first, "secret_arn", "") or "")


def create_database(
    name: str,
    *,
    config: DataConfig,
    network: NetworkOutputs,
    platform_key_arn: pulumi.Input[str],
    logs_key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> Database:
    """Create the encrypted, private Aurora PostgreSQL cluster and its instances."""
    parameters = _create_parameter_group(name, config=config, tags=tags, parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-db-log",
        # RDS creates this group itself with no retention and no key if it is missing.
        name=f"/aws/rds/cluster/{cluster_identifier(name)}/postgresql",
        retention_in_days=config.log_retention_days,
        kms_key_id=logs_key_arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    cluster = _create_cluster(
        name,
        config=config,
        network=network,
        key_arn=platform_key_arn,
        parameter_group=parameters,
        tags=tags,
        opts=pulumi.ResourceOptions(
            parent=parent, protect=config.protect_data, depends_on=[log_group]
        ),
    )
    instances = [
        _create_instance(
            name, index, config=config, network=network, cluster=cluster,
            key_arn=platform_key_arn, tags=tags, parent=parent,
        )
        for index in range(config.db_instance_count)
    ]  # fmt: skip
    return Database(
        cluster=cluster,
        instances=instances,
        master_secret_arn=cluster.master_user_secrets.apply(first_secret_arn),
    )


def _create_parameter_group(
    name: str, *, config: DataConfig, tags: dict[str, str], parent: pulumi.Resource
) -> aws.rds.ClusterParameterGroup:
    return aws.rds.ClusterParameterGroup(
        f"{name}-db-params",
        family=parameter_group_family(config.db_engine_version),
        description=f"{name}: TLS-only connections and useful PostgreSQL logs",
        parameters=[
            # pending-reboot is valid for static and dynamic parameters alike; a new
            # cluster starts with them applied.
            aws.rds.ClusterParameterGroupParameterArgs(
                name=key, value=value, apply_method="pending-reboot"
            )
            for key, value in CLUSTER_PARAMETERS
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _create_cluster(
    name: str,
    *,
    config: DataConfig,
    network: NetworkOutputs,
    key_arn: pulumi.Input[str],
    parameter_group: aws.rds.ClusterParameterGroup,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.rds.Cluster:
    identifier = cluster_identifier(name)
    return aws.rds.Cluster(
        f"{name}-db",
        cluster_identifier=identifier,
        engine=ENGINE,
        engine_mode="provisioned",
        engine_version=config.db_engine_version,
        database_name=config.db_name,
        master_username=config.db_master_username,
        manage_master_user_password=True,
        master_user_secret_kms_key_id=key_arn,
        storage_encrypted=True,
        kms_key_id=key_arn,
        port=POSTGRES_PORT,
        db_subnet_group_name=network.db_subnet_group_name,
        vpc_security_group_ids=[network.database_security_group_id],
        db_cluster_parameter_group_name=parameter_group.name,
        iam_database_authentication_enabled=True,
        enabled_cloudwatch_logs_exports=["postgresql"],
        backup_retention_period=config.db_backup_retention_days,
        preferred_backup_window=config.db_backup_window,
        preferred_maintenance_window=config.db_maintenance_window,
        copy_tags_to_snapshot=True,
        skip_final_snapshot=config.db_skip_final_snapshot,
        final_snapshot_identifier=(
            None if config.db_skip_final_snapshot else f"{identifier}-final"
        ),
        deletion_protection=config.db_deletion_protection,
        serverlessv2_scaling_configuration=_serverless_scaling(config),
        tags=tags | {"Name": identifier},
        opts=opts,
    )


def _serverless_scaling(
    config: DataConfig,
) -> aws.rds.ClusterServerlessv2ScalingConfigurationArgs | None:
    if not config.db_serverless:
        return None
    return aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
        min_capacity=config.db_min_capacity,
        max_capacity=config.db_max_capacity,
        # Auto-pause exists only at 0 ACU; AWS rejects the setting otherwise.
        seconds_until_auto_pause=(
            config.db_auto_pause_seconds if config.db_min_capacity == 0 else None
        ),
    )


def _create_instance(
    name: str,
    index: int,
    *,
    config: DataConfig,
    network: NetworkOutputs,
    cluster: aws.rds.Cluster,
    key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.rds.ClusterInstance:
    identifier = f"{cluster_identifier(name)}-{index + 1}"
    zone: pulumi.Output[str] | None = None
    if config.db_instance_count >= 2:
        zone = pulumi.Output.from_input(network.availability_zones).apply(
            partial(nth_zone, index=index)
        )
    return aws.rds.ClusterInstance(
        f"{name}-db-{index + 1}",
        identifier=identifier,
        cluster_identifier=cluster.id,
        # No engine_version: instances follow the cluster's version, one place to upgrade.
        engine=aws.rds.EngineType.AURORA_POSTGRESQL,
        instance_class=(
            SERVERLESS_INSTANCE_CLASS if config.db_serverless else config.db_instance_class
        ),
        availability_zone=zone,
        db_subnet_group_name=network.db_subnet_group_name,
        publicly_accessible=False,
        auto_minor_version_upgrade=True,
        performance_insights_enabled=True,
        performance_insights_kms_key_id=key_arn,
        performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
        # The first instance is the preferred writer; the others fail over in order.
        promotion_tier=min(index, 15),
        copy_tags_to_snapshot=True,
        tags=tags | {"Name": identifier},
        opts=pulumi.ResourceOptions(parent=parent, protect=config.protect_data),
    )
