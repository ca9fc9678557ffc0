"""Database and cache rules: RDS/Aurora and ElastiCache Redis."""

from __future__ import annotations

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from policies.framework import Enforcement, Reporter, rule
from policies.props import as_list, get, num, show, strings, truthy
from policies.topology import SUBNET, StackIndex, public_subnets

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_INSTANCE = "aws:rds/instance:Instance"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
DATABASES = (RDS_CLUSTER, RDS_INSTANCE)
MIN_BACKUP_DAYS = 7
MIN_PRODUCTION_BACKUP_DAYS = 14


@rule(
    id="DATA-01",
    name="database-encrypted-with-cmk",
    description="RDS and Aurora storage is encrypted with a customer-managed KMS key.",
    rationale="A customer key keeps control of who can read snapshots and lets access be revoked.",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Set storage_encrypted=True and kms_key_id=<platform key ARN>.",
    references=("CKV_AWS_16", "AwsSolutions-RDS2", "CIS 2.3.1"),
    resource_types=DATABASES,
)
def database_encrypted_with_cmk(args: ResourceValidationArgs, report: Reporter) -> None:
    if not truthy(get(args.props, "storageEncrypted")):
        report.violation("storage is not encrypted")
    elif get(args.props, "kmsKeyId") is None:
        report.violation("storage uses the AWS-managed key, not a customer key")


@rule(
    id="DATA-02",
    name="database-private",
    description=(
        "Databases are not publicly accessible and live in a subnet group of private subnets."
    ),
    rationale="A public endpoint exposes the database to password spraying from the internet.",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set publicly_accessible=False and db_subnet_group_name to the isolated database subnet "
        "group."
    ),
    references=("CKV_AWS_17", "CIS 2.3.3"),
    resource_types=(*DATABASES, CLUSTER_INSTANCE, DB_SUBNET_GROUP),
    scope="stack",
)
def database_private(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    public = public_subnets(index)
    for resource in index.of_type(*DATABASES, CLUSTER_INSTANCE):
        with report.deciding(resource.urn):
            if truthy(get(resource.props, "publiclyAccessible")):
                report.violation(f"{resource.name} is publicly accessible", resource.urn)
            if resource.resource_type == CLUSTER_INSTANCE:
                continue
            if get(resource.props, "dbSubnetGroupName") is None:
                report.violation(
                    f"{resource.name} has no DB subnet group (default VPC)", resource.urn
                )
            for group in index.linked(resource, "dbSubnetGroupName", DB_SUBNET_GROUP):
                exposed = [
                    s.name for s in index.linked(group, "subnetIds", SUBNET) if s.urn in public
                ]
                if exposed:
                    report.violation(
                        f"{resource.name} subnet group has public subnets {exposed}", resource.urn
                    )


def _instances(index: StackIndex, cluster: PolicyResource) -> list[PolicyResource]:
    return index.referrers(cluster, "clusterIdentifier", CLUSTER_INSTANCE)


@rule(
    id="DATA-03",
    name="database-multi-az",
    description="Production databases run at least two instances across availability zones.",
    rationale=(
        "A single instance turns a zonal outage or maintenance into downtime for every request."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.PRODUCTION,
    remediation="Set dbInstanceCount >= 2 (Aurora) or multi_az=True (RDS instance) in production.",
    references=("CKV_AWS_157", "AwsSolutions-RDS3"),
    resource_types=(*DATABASES, CLUSTER_INSTANCE),
    scope="stack",
)
def database_multi_az(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for cluster in index.of_type(RDS_CLUSTER):
        with report.deciding(cluster.urn):
            instances = _instances(index, cluster)
            zones = [get(i.props, "availabilityZone") for i in instances]
            pinned = [z for z in zones if z is not None]
            if len(instances) < 2 or (len(pinned) == len(zones) and len(set(pinned)) < 2):
                report.violation(
                    f"cluster {cluster.name} has {len(instances)} instance(s) "
                    f"in zones {pinned or 'unpinned'}",
                    cluster.urn,
                )
    for instance in index.of_type(RDS_INSTANCE):
        if not truthy(get(instance.props, "multiAz")):
            report.violation(f"instance {instance.name} is single-AZ", instance.urn)


@rule(
    id="DATA-04",
    name="database-backups",
    description=(
        "Databases keep backups 7+ days (14+ in production), copy tags to snapshots and take a "
        "final snapshot in production."
    ),
    rationale=(
        "Point-in-time recovery is the answer to corruption and bad migrations; the final snapshot"
        " to accidental deletes."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set backup_retention_period (dbBackupRetentionDays), copy_tags_to_snapshot=True and, in "
        "production, skip_final_snapshot=False with a final_snapshot_identifier."
    ),
    references=("CKV_AWS_133", "AwsSolutions-RDS13"),
    resource_types=DATABASES,
)
def database_backups(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    days = num(get(props, "backupRetentionPeriod")) or 1.0
    if days < MIN_BACKUP_DAYS:
        report.violation(f"backup retention {show(days)} days < {MIN_BACKUP_DAYS}")
    elif days < MIN_PRODUCTION_BACKUP_DAYS:
        report.violation(
            f"backup retention {show(days)} days < {MIN_PRODUCTION_BACKUP_DAYS}",
            production_only=True,
        )
    if not truthy(get(props, "copyTagsToSnapshot")):
        report.violation("copy_tags_to_snapshot is off")
    if truthy(get(props, "skipFinalSnapshot")):
        report.violation("the final snapshot is skipped", production_only=True)


@rule(
    id="DATA-05",
    name="database-deletion-protection",
    description="Production databases have deletion protection and Pulumi `protect`.",
    rationale=(
        "Two independent locks keep a bad `pulumi up` or console click from dropping the data."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.PRODUCTION,
    remediation=(
        "Set deletion_protection=True and ResourceOptions(protect=True) (dbDeletionProtection, "
        "protectData)."
    ),
    references=("CKV_AWS_293", "AwsSolutions-RDS10"),
    resource_types=DATABASES,
)
def database_deletion_protection(args: ResourceValidationArgs, report: Reporter) -> None:
    if not truthy(get(args.props, "deletionProtection")):
        report.violation("deletion_protection is off")
    if not args.opts.protect:
        report.violation("the resource is not Pulumi-protected")


def _forces_ssl(index: StackIndex, cluster: PolicyResource) -> bool:
    for group in index.linked(
        cluster, "dbClusterParameterGroupName", CLUSTER_PARAMETER_GROUP, PARAMETER_GROUP
    ):
        for parameter in as_list(get(group.props, "parameters")):
            if get(parameter, "name") == "rds.force_ssl" and str(get(parameter, "value")) == "1":
                return True
    return False


def _check_database_operations(index: StackIndex, db: PolicyResource, report: Reporter) -> None:
    props = db.props
    if get(props, "masterPassword") is not None or not truthy(
        get(props, "manageMasterUserPassword")
    ):
        report.violation(f"{db.name} does not use an RDS-managed master password", db.urn)
    if db.resource_type == RDS_CLUSTER and not _forces_ssl(index, db):
        report.violation(f"{db.name} parameter group does not set rds.force_ssl=1", db.urn)
    if "postgresql" not in strings(get(props, "enabledCloudwatchLogsExports")):
        report.violation(f"{db.name} does not export postgresql logs", db.urn, production_only=True)
    members = _instances(index, db) if db.resource_type == RDS_CLUSTER else [db]
    for member in members:
        member_props = member.props
        if get(member_props, "autoMinorVersionUpgrade") is False:
            report.violation(f"{member.name} disables minor version upgrades", member.urn)
        insights = truthy(get(member_props, "performanceInsightsEnabled")) or truthy(
            get(props, "performanceInsightsEnabled")
        )
        key = get(
            member_props,
            "performanceInsightsKmsKeyId",
            default=get(props, "performanceInsightsKmsKeyId"),
        )
        if not insights or key is None:
            report.violation(
                f"{member.name} has no Performance Insights with a KMS key",
                member.urn,
                production_only=True,
            )


@rule(
    id="DATA-06",
    name="database-operational-security",
    description=(
        "Databases use a managed master password, force SSL, take minor upgrades, export logs and "
        "run Performance Insights with KMS."
    ),
    rationale=(
        "These close the usual gaps: leaked passwords, clear-text connections, unpatched engines, "
        "no audit trail."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set manage_master_user_password=True, a cluster parameter group with rds.force_ssl=1, "
        "enabled_cloudwatch_logs_exports=['postgresql'], performance_insights_enabled with a KMS "
        "key."
    ),
    references=(
        "CKV2_AWS_30",
        "CKV2_AWS_69",
        "CKV_AWS_118",
        "CKV_AWS_129",
        "CKV_AWS_226",
        "CKV_AWS_353",
    ),
    resource_types=(*DATABASES, CLUSTER_INSTANCE, CLUSTER_PARAMETER_GROUP),
    scope="stack",
)
def database_operational_security(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for db in index.of_type(*DATABASES):
        with report.deciding(db.urn):
            _check_database_operations(index, db, report)


@rule(
    id="DATA-07",
    name="cache-encrypted-and-authenticated",
    description=(
        "Redis replication groups encrypt at rest with KMS and in transit, and require an AUTH "
        "token or RBAC."
    ),
    rationale=(
        "Cached sessions and rate-limit state are sensitive; an open Redis is a full compromise."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Set at_rest_encryption_enabled=True, kms_key_id, transit_encryption_enabled=True "
    "and auth_token (or user_group_ids).",
    references=(
        "CKV_AWS_29",
        "CKV_AWS_30",
        "CKV_AWS_31",
        "CKV_AWS_191",
        "AwsSolutions-AEC3",
        "AwsSolutions-AEC6",
    ),
    resource_types=(CACHE_GROUP,),
)
def cache_encrypted_and_authenticated(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    if not truthy(get(props, "atRestEncryptionEnabled")):
        report.violation("at-rest encryption is off")
    elif get(props, "kmsKeyId") is None:
        report.violation("at-rest encryption does not use a customer KMS key")
    if not truthy(get(props, "transitEncryptionEnabled")):
        report.violation("in-transit encryption is off")
    if get(props, "authToken") is None and not as_list(get(props, "userGroupIds")):
        report.violation("no AUTH token or RBAC user group")


@rule(
    id="DATA-08",
    name="cache-high-availability",
    description="Production Redis has a replica, automatic failover, multi-AZ and snapshots.",
    rationale=(
        "Rate limiting and idempotency live in Redis; losing the primary must not stop the gateway."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.PRODUCTION,
    remediation=(
        "Set cacheReplicas >= 1, automatic_failover_enabled=True, multi_az_enabled=True and "
        "snapshot_retention_limit >= 1 in production."
    ),
    references=("CKV2_AWS_50", "AwsSolutions-AEC4"),
    resource_types=(CACHE_GROUP,),
)
def cache_high_availability(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    nodes = num(get(props, "numCacheClusters")) or 1 + (
        num(get(props, "replicasPerNodeGroup")) or 0
    )
    if nodes < 2:
        report.violation(f"{show(nodes)} node(s): no replica")
    if not truthy(get(props, "automaticFailoverEnabled")):
        report.violation("automatic failover is off")
    if not truthy(get(props, "multiAzEnabled")):
        report.violation("multi-AZ is off")
    if (num(get(props, "snapshotRetentionLimit")) or 0) < 1:
        report.violation("no snapshots are retained")
