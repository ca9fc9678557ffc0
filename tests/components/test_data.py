"""The data component under the mock runtime, for a dev-like and a prod-like config."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from agatha.plan.graph import PlannedResource, ResourceGraph
from agatha.plan.mock_runtime import evaluate_program
from components.config.data import DataConfig
from components.published_outputs import PROVIDER_SECRETS, PUBLISHED_OUTPUTS, SERVICE_SECRETS

NAME = "agatha-test"
WORKER_TIMEOUT = 120
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
TAGS = {"environment": "test", "service": "agatha", "layer": "data"}

DEV = {
    "dbServerless": True,
    "dbMinCapacity": 0,
    "dbMaxCapacity": 4,
    "dbInstanceCount": 1,
    "dbSkipFinalSnapshot": True,
    "cacheReplicas": 0,
    "cacheSnapshotRetentionDays": 1,
}
PROD = {
    "dbServerless": False,
    "dbInstanceClass": "db.r7g.large",
    "dbInstanceCount": 3,
    "dbBackupRetentionDays": 14,
    "dbSkipFinalSnapshot": False,
    "dbDeletionProtection": True,
    "protectData": True,
    "cacheReplicas": 2,
    "cacheSnapshotRetentionDays": 7,
    "secretRecoveryWindowDays": 30,
    "logRetentionDays": 90,
}

KMS_KEY = "aws:kms/key:Key"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
QUEUE = "aws:sqs/queue:Queue"


@dataclass
class StandInNetwork:
    """Stands in for the network layer (built by another part) with its contract attributes."""

    availability_zones: list[str] = field(default_factory=lambda: list(ZONES))
    db_subnet_group_name: str = f"{NAME}-db-subnets"
    cache_subnet_group_name: str = f"{NAME}-cache-subnets"
    database_security_group_id: str = "sg-database"
    cache_security_group_id: str = "sg-cache"


def _program(settings: dict[str, Any]) -> Callable[[], None]:
    def program() -> None:
        import pulumi

        from components.data import Data, DataArgs

        data = Data(
            NAME,
            DataArgs(
                config=DataConfig.model_validate(settings),
                network=StandInNetwork(),
                worker_timeout_seconds=WORKER_TIMEOUT,
                tags=TAGS,
            ),
        )
        for key, value in data.published().items():
            pulumi.export(key, value)
        pulumi.export("attr-logs-bucket", data.logs_bucket_name)
        pulumi.export("attr-cache-port", data.cache_port)
        pulumi.export("attr-db-port", data.db_port)
        pulumi.export("attr-logs-key-arn", data.logs_key_arn)

    return program


@pytest.fixture(scope="module")
def dev() -> ResourceGraph:
    return evaluate_program(_program(DEV))


@pytest.fixture(scope="module")
def prod() -> ResourceGraph:
    return evaluate_program(_program(PROD))


@pytest.fixture(params=["dev", "prod"])
def graph(request: pytest.FixtureRequest) -> ResourceGraph:
    return request.getfixturevalue(request.param)


def _one(graph: ResourceGraph, name: str) -> dict[str, Any]:
    return graph.named(name).inputs


def _policy(resource: PlannedResource) -> dict[str, Any]:
    return json.loads(resource.inputs["policy"])


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["Statement"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- structure ----------------------------------------------------------------------------


def test_component_type_token_and_children_parented_and_named(graph: ResourceGraph) -> None:
    (component,) = graph.of_type("agatha:data:Data")
    assert component.name == NAME
    children = [r for r in graph if r.urn != component.urn]
    assert children, "the component created no children"
    for child in children:
        assert child.parent == component.urn, child.name
        assert child.name.startswith(f"{NAME}-"), child.name


def test_taggable_children_carry_the_layer_tags(graph: ResourceGraph) -> None:
    taggable = [r for r in graph if r.custom and "tags" in r.inputs]
    assert len(taggable) >= 20
    for resource in taggable:
        assert TAGS.items() <= resource.inputs["tags"].items(), resource.name


# --- KMS ----------------------------------------------------------------------------------


def test_keys_rotate_and_have_explicit_policies_without_bare_star_principal(
    graph: ResourceGraph,
) -> None:
    keys = graph.of_type(KMS_KEY)
    assert {k.name for k in keys} == {f"{NAME}-platform-key", f"{NAME}-logs-key"}
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        for statement in _statements(_policy(key)):
            assert statement["Principal"] != "*", key.name
            assert statement["Principal"] != {"AWS": "*"}, key.name
        root = _statements(_policy(key))[0]
        assert root["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_service_principals_in_key_policies_are_scoped_by_conditions(graph: ResourceGraph) -> None:
    for key in graph.of_type(KMS_KEY):
        services = [s for s in _statements(_policy(key)) if "Service" in s["Principal"]]
        assert services, key.name
        assert all(s.get("Condition") for s in services), key.name


def test_logs_key_lets_cloudwatch_logs_of_this_region_use_it(dev: ResourceGraph) -> None:
    statements = _statements(_policy(dev.named(f"{NAME}-logs-key")))
    logs = next(s for s in statements if s["Principal"].get("Service"))
    assert logs["Principal"]["Service"] == "logs.us-east-1.amazonaws.com"
    assert "kms:GenerateDataKey" in logs["Action"]
    context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert context == "arn:aws:logs:us-east-1:123456789012:log-group:*"


def test_prod_protects_keys_database_cache_and_archive(
    prod: ResourceGraph, dev: ResourceGraph
) -> None:
    protected = {r.name for r in prod if r.protect}
    expected = {
        f"{NAME}-platform-key",
        f"{NAME}-logs-key",
        f"{NAME}-db",
        f"{NAME}-db-1",
        f"{NAME}-db-2",
        f"{NAME}-db-3",
        f"{NAME}-cache",
        f"{NAME}-archive",
    }
    assert expected <= protected
    assert not [r.name for r in dev if r.protect]


# --- Aurora -------------------------------------------------------------------------------


def test_cluster_is_encrypted_with_our_key_and_uses_a_managed_master_password(
    graph: ResourceGraph,
) -> None:
    cluster = _one(graph, f"{NAME}-db")
    platform_arn = graph.named(f"{NAME}-platform-key").outputs["arn"]
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["storageEncrypted"] is True
    assert cluster["kmsKeyId"] == platform_arn
    assert cluster["manageMasterUserPassword"] is True
    assert cluster["masterUserSecretKmsKeyId"] == platform_arn
    assert "masterPassword" not in cluster
    assert cluster["iamDatabaseAuthenticationEnabled"] is True
    assert cluster["enabledCloudwatchLogsExports"] == ["postgresql"]
    assert cluster["copyTagsToSnapshot"] is True
    assert cluster["dbSubnetGroupName"] == f"{NAME}-db-subnets"
    assert cluster["vpcSecurityGroupIds"] == ["sg-database"]


def test_cluster_parameter_group_forces_ssl(graph: ResourceGraph) -> None:
    group = _one(graph, f"{NAME}-db-params")
    parameters = {p["name"]: p["value"] for p in group["parameters"]}
    assert parameters["rds.force_ssl"] == "1"
    assert group["family"] == "aurora-postgresql16"
    group_name = graph.named(f"{NAME}-db-params").outputs["name"]
    assert _one(graph, f"{NAME}-db")["dbClusterParameterGroupName"] == group_name


def test_instances_are_private_with_performance_insights_under_our_key(
    graph: ResourceGraph,
) -> None:
    platform_arn = graph.named(f"{NAME}-platform-key").outputs["arn"]
    instances = graph.of_type(INSTANCE)
    assert instances
    for instance in instances:
        inputs = instance.inputs
        assert inputs["publiclyAccessible"] is False
        assert inputs["autoMinorVersionUpgrade"] is True
        assert inputs["performanceInsightsEnabled"] is True
        assert inputs["performanceInsightsKmsKeyId"] == platform_arn


def test_prod_cluster_spreads_instances_over_distinct_azs_with_protection(
    prod: ResourceGraph,
) -> None:
    instances = prod.of_type(INSTANCE)
    assert len(instances) >= 2
    zones = [i.inputs["availabilityZone"] for i in instances]
    assert len(set(zones)) == len(zones) == 3
    assert {i.inputs["instanceClass"] for i in instances} == {"db.r7g.large"}
    cluster = _one(prod, f"{NAME}-db")
    assert cluster["deletionProtection"] is True
    assert cluster["skipFinalSnapshot"] is False
    assert cluster["finalSnapshotIdentifier"] == f"{NAME}-db-final"
    assert cluster["backupRetentionPeriod"] >= 14
    assert prod.named(f"{NAME}-db").protect


def test_dev_cluster_is_serverless_and_pauses_when_idle(dev: ResourceGraph) -> None:
    cluster = _one(dev, f"{NAME}-db")
    scaling = cluster["serverlessv2ScalingConfiguration"]
    assert scaling["minCapacity"] == 0
    assert scaling["secondsUntilAutoPause"] == 900
    assert "finalSnapshotIdentifier" not in cluster
    (instance,) = dev.of_type(INSTANCE)
    assert instance.inputs["instanceClass"] == "db.serverless"
    assert "availabilityZone" not in instance.inputs


def test_database_log_group_exists_first_with_retention_and_logs_key(graph: ResourceGraph) -> None:
    log_group = graph.named(f"{NAME}-db-log")
    assert log_group.inputs["name"] == f"/aws/rds/cluster/{NAME}-db/postgresql"
    assert log_group.inputs["kmsKeyId"] == graph.named(f"{NAME}-logs-key").outputs["arn"]
    assert log_group.urn in graph.named(f"{NAME}-db").depends_on


def test_log_groups_have_retention_and_kms(graph: ResourceGraph) -> None:
    groups = graph.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) == 2
    for group in groups:
        assert group.inputs["retentionInDays"] >= 30
        assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")


# --- Redis --------------------------------------------------------------------------------


def test_redis_is_encrypted_at_rest_and_in_transit_with_an_auth_token(
    graph: ResourceGraph,
) -> None:
    group = _one(graph, f"{NAME}-cache")
    assert group["engine"] == "redis"
    assert group["engineVersion"].startswith("7.")
    assert group["atRestEncryptionEnabled"] is True
    assert group["kmsKeyId"] == graph.named(f"{NAME}-platform-key").outputs["arn"]
    assert group["transitEncryptionEnabled"] is True
    assert group["authToken"] == "[secret]"
    assert group["subnetGroupName"] == f"{NAME}-cache-subnets"
    assert group["securityGroupIds"] == ["sg-cache"]


def test_redis_with_replicas_fails_over_across_zones(prod: ResourceGraph) -> None:
    group = _one(prod, f"{NAME}-cache")
    assert group["numCacheClusters"] == 3
    assert group["automaticFailoverEnabled"] is True
    assert group["multiAzEnabled"] is True
    assert len(set(group["preferredCacheClusterAzs"])) == 3
    assert group["snapshotRetentionLimit"] == 7


def test_redis_without_replicas_is_a_single_node(dev: ResourceGraph) -> None:
    group = _one(dev, f"{NAME}-cache")
    assert group["numCacheClusters"] == 1
    assert group["automaticFailoverEnabled"] is False
    assert group["multiAzEnabled"] is False


def test_redis_auth_token_is_stored_in_its_secret(graph: ResourceGraph) -> None:
    secret = graph.named(f"{NAME}-cache-auth")
    (version,) = graph.of_type(SECRET_VERSION)
    assert version.inputs["secretId"].startswith(f"{NAME}-cache-auth-")
    assert version.parent == secret.parent
    assert version.inputs["secretString"] == "[secret]"
    assert secret.inputs["kmsKeyId"] == graph.named(f"{NAME}-platform-key").outputs["arn"]


def test_redis_uses_its_parameter_group_with_a_ttl_only_eviction_policy(
    graph: ResourceGraph,
) -> None:
    group = graph.named(f"{NAME}-cache-params")
    assert group.inputs["family"] == "redis7"
    assert {"name": "maxmemory-policy", "value": "volatile-lru"} in group.inputs["parameters"]
    assert _one(graph, f"{NAME}-cache")["parameterGroupName"] == group.outputs["name"]


# --- S3 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bucket", ["archive", "logs"])
def test_buckets_block_public_access_with_all_four_flags(graph: ResourceGraph, bucket: str) -> None:
    block = _one(graph, f"{NAME}-{bucket}-public-access")
    assert block["bucket"] == graph.named(f"{NAME}-{bucket}").outputs["bucket"]
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[flag] is True, flag


@pytest.mark.parametrize("bucket", ["archive", "logs"])
def test_bucket_policies_deny_requests_without_tls(graph: ResourceGraph, bucket: str) -> None:
    bucket_arn = graph.named(f"{NAME}-{bucket}").outputs["arn"]
    statements = _statements(_policy(graph.named(f"{NAME}-{bucket}-policy")))
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {bucket_arn, f"{bucket_arn}/*"}


def test_archive_bucket_is_sse_kms_with_bucket_key_and_versioned(graph: ResourceGraph) -> None:
    (rule,) = _one(graph, f"{NAME}-archive-encryption")["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == graph.named(f"{NAME}-platform-key").outputs["arn"]
    assert rule["bucketKeyEnabled"] is True
    versioning = _one(graph, f"{NAME}-archive-versioning")["versioningConfiguration"]
    assert versioning == {"status": "Enabled"}


def test_archive_lifecycle_moves_to_colder_storage_then_expires(graph: ResourceGraph) -> None:
    (rule,) = _one(graph, f"{NAME}-archive-lifecycle")["rules"]
    assert rule["status"] == "Enabled"
    transitions = {t["storageClass"]: t["days"] for t in rule["transitions"]}
    assert transitions == {"STANDARD_IA": 30, "GLACIER_IR": 90}
    assert rule["expiration"]["days"] == 365
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] > 0
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] > 0


def test_archive_access_logs_go_to_the_logs_bucket(graph: ResourceGraph) -> None:
    logging = _one(graph, f"{NAME}-archive-logging")
    assert logging["bucket"] == graph.named(f"{NAME}-archive").outputs["bucket"]
    assert logging["targetBucket"] == graph.named(f"{NAME}-logs").outputs["bucket"]
    assert logging["targetPrefix"].startswith("s3/")


def test_logs_bucket_uses_sse_s3_and_is_tagged_for_access_logs(graph: ResourceGraph) -> None:
    assert _one(graph, f"{NAME}-logs")["tags"]["purpose"] == "access-logs"
    (rule,) = _one(graph, f"{NAME}-logs-encryption")["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    ownership = _one(graph, f"{NAME}-logs-ownership")["rule"]
    assert ownership["objectOwnership"] == "BucketOwnerEnforced"
    assert _one(graph, f"{NAME}-logs-versioning")["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = _one(graph, f"{NAME}-logs-lifecycle")["rules"]
    assert rule["expiration"]["days"] >= 30


def test_logs_bucket_lets_alb_log_delivery_write_under_alb_prefix(graph: ResourceGraph) -> None:
    bucket_arn = graph.named(f"{NAME}-logs").outputs["arn"]
    statements = _statements(_policy(graph.named(f"{NAME}-logs-policy")))
    alb = [s for s in statements if s["Effect"] == "Allow" and "/alb/" in s["Resource"]]
    principals = [s["Principal"] for s in alb]
    assert {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"} in principals
    assert {"AWS": "arn:aws:iam::127311923021:root"} in principals
    for statement in alb:
        assert statement["Resource"] == f"{bucket_arn}/alb/AWSLogs/123456789012/*"
        assert statement["Action"] == "s3:PutObject"
    s3_logs = next(
        s for s in statements if s["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    )
    archive_arn = graph.named(f"{NAME}-archive").outputs["arn"]
    assert s3_logs["Condition"]["ArnLike"]["aws:SourceArn"] == archive_arn


# --- SQS and SNS --------------------------------------------------------------------------


def test_queue_visibility_timeout_is_six_times_the_worker_timeout(graph: ResourceGraph) -> None:
    queue = _one(graph, f"{NAME}-jobs")
    assert queue["visibilityTimeoutSeconds"] == 6 * WORKER_TIMEOUT
    assert queue["messageRetentionSeconds"] == 345600


def test_queue_redrives_to_the_dlq_after_max_receive_count(graph: ResourceGraph) -> None:
    dlq = graph.named(f"{NAME}-jobs-dlq")
    redrive = json.loads(_one(graph, f"{NAME}-jobs")["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": 5}
    assert dlq.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
    allow = json.loads(_one(graph, f"{NAME}-jobs-dlq-redrive-allow")["redriveAllowPolicy"])
    queue_arn = graph.named(f"{NAME}-jobs").outputs["arn"]
    assert allow == {"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn]}


def test_queues_and_topic_use_the_platform_key(graph: ResourceGraph) -> None:
    platform_arn = graph.named(f"{NAME}-platform-key").outputs["arn"]
    for queue in graph.of_type(QUEUE):
        assert queue.inputs["kmsMasterKeyId"] == platform_arn, queue.name
        assert queue.inputs["kmsDataKeyReusePeriodSeconds"] == 300
    assert _one(graph, f"{NAME}-events")["kmsMasterKeyId"] == platform_arn


@pytest.mark.parametrize("policy", ["jobs-policy", "jobs-dlq-policy", "events-policy"])
def test_queue_and_topic_policies_refuse_plain_http(graph: ResourceGraph, policy: str) -> None:
    statements = _statements(_policy(graph.named(f"{NAME}-{policy}")))
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for statement in statements:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] not in ("*", {"AWS": "*"})


# --- Secrets Manager ----------------------------------------------------------------------


def test_secrets_exist_for_every_service_under_our_key_and_hold_no_value(
    graph: ResourceGraph,
) -> None:
    platform_arn = graph.named(f"{NAME}-platform-key").outputs["arn"]
    secrets = {s.inputs["name"]: s for s in graph.of_type(SECRET)}
    expected = {f"{NAME}/jwt/signing-keys"}
    expected |= {f"{NAME}/providers/{p}" for p in PROVIDER_SECRETS}
    expected |= {f"{NAME}/services/{s}" for s in SERVICE_SECRETS}
    assert expected <= set(secrets)
    assert len(expected) == 9
    for path in expected:
        assert secrets[path].inputs["kmsKeyId"] == platform_arn
        assert "agatha rotate" in secrets[path].inputs["description"]
    versions = graph.of_type(SECRET_VERSION)
    assert [v.name for v in versions] == [f"{NAME}-cache-auth-value"]


def test_secret_recovery_window_follows_config(prod: ResourceGraph, dev: ResourceGraph) -> None:
    assert {s.inputs["recoveryWindowInDays"] for s in prod.of_type(SECRET)} == {30}
    assert {s.inputs["recoveryWindowInDays"] for s in dev.of_type(SECRET)} == {7}


# --- every policy -------------------------------------------------------------------------


def test_every_policy_document_is_valid_json_without_a_star_action(graph: ResourceGraph) -> None:
    documents = [
        (r.name, key, r.inputs[key])
        for r in graph
        for key in ("policy", "redrivePolicy", "redriveAllowPolicy")
        if key in r.inputs
    ]
    assert len(documents) >= 8
    for name, key, text in documents:
        document = json.loads(text)
        for statement in document.get("Statement", []):
            actions = _as_list(statement.get("Action", []))
            assert "*" not in actions, f"{name}.{key}"
            if statement["Effect"] == "Allow":
                assert statement.get("Principal") not in ("*", {"AWS": "*"}), name


# --- published outputs --------------------------------------------------------------------


def test_published_holds_every_data_key_of_the_contract(graph: ResourceGraph) -> None:
    expected = {o.key for o in PUBLISHED_OUTPUTS if o.layer == "data"}
    assert expected <= set(graph.exports)
    for key in expected:
        assert isinstance(graph.exports[key], str) and graph.exports[key], key


def test_published_values_point_at_the_right_resources(dev: ResourceGraph) -> None:
    exports = dev.exports
    assert exports["queue-url"].endswith(f"/{NAME}-jobs")
    assert exports["dlq-url"].endswith(f"/{NAME}-jobs-dlq")
    assert exports["db-cluster-id"] == f"{NAME}-db"
    assert exports["db-master-secret-arn"].startswith("arn:aws:secretsmanager:")
    assert exports["cache-replication-group-id"].startswith(f"{NAME}-cache")
    assert exports["secret-arn-openai"] == dev.named(f"{NAME}-secret-openai").outputs["arn"]
    assert exports["archive-bucket"] == dev.named(f"{NAME}-archive").outputs["bucket"]
    assert exports["attr-logs-bucket"] == dev.named(f"{NAME}-logs").outputs["bucket"]
    assert exports["attr-cache-port"] == 6379
    assert exports["attr-db-port"] == 5432
    assert exports["attr-logs-key-arn"] == dev.named(f"{NAME}-logs-key").outputs["arn"]
