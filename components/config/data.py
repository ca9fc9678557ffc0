"""Data layer settings: Aurora, Redis, archive bucket, queues, retention."""

from __future__ import annotations

from pydantic import Field, model_validator

from components.config.base import ConfigSection


class DataConfig(ConfigSection):
    """Sizes, HA and retention of the stateful services."""

    db_engine_version: str = Field(
        default="16.4",
        pattern=r"^\d+\.\d+$",
        alias="dbEngineVersion",
        description="Aurora PostgreSQL engine version (major.minor, for example 16.4).",
    )
    db_name: str = Field(
        default="agatha",
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        alias="dbName",
        description="Name of the application database created in the Aurora cluster.",
    )
    db_master_username: str = Field(
        default="agatha_admin",
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        alias="dbMasterUsername",
        description="Aurora master user; its password is managed by RDS in Secrets Manager.",
    )
    db_backup_window: str = Field(
        default="03:00-04:00",
        pattern=r"^\d\d:\d\d-\d\d:\d\d$",
        alias="dbBackupWindow",
        description="Daily Aurora backup window in UTC (hh:mm-hh:mm).",
    )
    db_maintenance_window: str = Field(
        default="sun:04:30-sun:05:30",
        pattern=r"^[a-z]{3}:\d\d:\d\d-[a-z]{3}:\d\d:\d\d$",
        alias="dbMaintenanceWindow",
        description="Weekly Aurora maintenance window in UTC (ddd:hh:mm-ddd:hh:mm).",
    )
    db_serverless: bool = Field(
        default=True,
        alias="dbServerless",
        description="Use Aurora Serverless v2 instances (db.serverless) instead of provisioned.",
    )
    db_min_capacity: float = Field(
        default=0.0,
        ge=0,
        le=256,
        alias="dbMinCapacity",
        description="Serverless v2 minimum ACUs; 0 enables auto-pause.",
    )
    db_max_capacity: float = Field(
        default=4.0, gt=0, le=256, alias="dbMaxCapacity", description="Serverless v2 maximum ACUs."
    )
    db_auto_pause_seconds: int = Field(
        default=900,
        ge=300,
        le=86400,
        alias="dbAutoPauseSeconds",
        description="Seconds idle before a 0-ACU serverless cluster pauses.",
    )
    db_instance_class: str = Field(
        default="db.r7g.large",
        alias="dbInstanceClass",
        description="Instance class when dbServerless is false.",
    )
    db_instance_count: int = Field(
        default=1,
        ge=1,
        le=15,
        alias="dbInstanceCount",
        description="Aurora instances (writer + readers); 2+ spreads over AZs.",
    )
    db_backup_retention_days: int = Field(
        default=7, ge=1, le=35, alias="dbBackupRetentionDays", description="Backup retention days."
    )
    db_skip_final_snapshot: bool = Field(
        default=True,
        alias="dbSkipFinalSnapshot",
        description="Skip the final snapshot on delete (false in prod).",
    )
    db_deletion_protection: bool = Field(
        default=False,
        alias="dbDeletionProtection",
        description="AWS deletion protection on the cluster (true in prod).",
    )
    protect_data: bool = Field(
        default=False,
        alias="protectData",
        description="Pulumi protect on stateful resources (database, cache, archive, keys).",
    )
    cache_node_type: str = Field(
        default="cache.t4g.small", alias="cacheNodeType", description="ElastiCache node type."
    )
    cache_engine_version: str = Field(
        default="7.1",
        pattern=r"^7\.\d+$",
        alias="cacheEngineVersion",
        description="Redis engine version (7.x; the parameter group family is redis7).",
    )
    cache_replicas: int = Field(
        default=0,
        ge=0,
        le=5,
        alias="cacheReplicas",
        description="Redis replicas; 1+ enables automatic failover and multi-AZ.",
    )
    cache_snapshot_retention_days: int = Field(
        default=0,
        ge=0,
        le=35,
        alias="cacheSnapshotRetentionDays",
        description="Redis snapshot retention days (0 disables snapshots).",
    )
    archive_ia_after_days: int = Field(
        default=30,
        ge=30,
        alias="archiveIaAfterDays",
        description="Days before archived objects move to STANDARD_IA (>= 30).",
    )
    archive_glacier_after_days: int = Field(
        default=90,
        ge=1,
        alias="archiveGlacierAfterDays",
        description="Days before archived objects move to GLACIER_IR.",
    )
    archive_expire_after_days: int = Field(
        default=365,
        ge=1,
        alias="archiveExpireAfterDays",
        description="Days before archived objects expire.",
    )
    queue_max_receive_count: int = Field(
        default=5,
        ge=1,
        le=1000,
        alias="queueMaxReceiveCount",
        description="Receives before a job message moves to the DLQ.",
    )
    queue_retention_seconds: int = Field(
        default=345600,
        ge=60,
        le=1209600,
        alias="queueRetentionSeconds",
        description="Message retention of the inference queue in seconds.",
    )
    secret_recovery_window_days: int = Field(
        default=7,
        ge=7,
        le=30,
        alias="secretRecoveryWindowDays",
        description="Days a deleted Secrets Manager secret stays recoverable (7-30).",
    )
    log_retention_days: int = Field(
        default=30,
        ge=1,
        alias="logRetentionDays",
        description="Retention of application log groups in days (prod >= 90).",
    )
    audit_log_retention_days: int = Field(
        default=365,
        ge=1,
        alias="auditLogRetentionDays",
        description="Retention of audit log groups (CloudTrail) in days (>= 365).",
    )

    @model_validator(mode="after")
    def _archive_tiers_in_order(self) -> DataConfig:
        if not (
            self.archive_ia_after_days
            < self.archive_glacier_after_days
            < self.archive_expire_after_days
        ):
            raise ValueError(
                "archiveGlacierAfterDays: must lie between archiveIaAfterDays and "
                "archiveExpireAfterDays"
            )
        if self.db_min_capacity > self.db_max_capacity:
            raise ValueError("dbMinCapacity: must not exceed dbMaxCapacity")
        return self
