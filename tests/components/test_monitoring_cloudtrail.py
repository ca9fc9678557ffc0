"""CloudTrail's policies and CIS table (pure) and the trail it builds (mock runtime)."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

from agatha.plan.graph import ResourceGraph
from agatha.plan.mock_runtime import evaluate_program
from components import monitoring_cloudtrail_rules as rules
from components.config.monitoring import MonitoringConfig
from components.data_keys import AwsContext
from components.monitoring_cloudtrail import TrailInputs, create_cis_filters, create_trail

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
NAME = "agatha-test"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{NAME}-trail"
LOGS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/logs"


def _statement(document: dict, sid: str) -> dict:
    return next(s for s in document["Statement"] if s.get("Sid") == sid)


def test_bucket_policy_lets_only_this_trail_write_and_refuses_plain_http() -> None:
    policy = rules.trail_bucket_policy(
        bucket_arn="arn:aws:s3:::trail", partition="aws", region="us-east-1",
        account_id=ACCOUNT, name=NAME,
    )  # fmt: skip
    write = _statement(policy, "AllowCloudTrailWrite")
    assert write["Resource"] == f"arn:aws:s3:::trail/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    acl = _statement(policy, "AllowCloudTrailAclCheck")
    assert acl["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    deny = _statement(policy, "DenyInsecureTransport")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_trail_key_policy_has_no_wildcard_principal_and_pins_the_trail() -> None:
    policy = rules.trail_key_policy(
        partition="aws", account_id=ACCOUNT, region="us-east-1", name=NAME
    )
    assert all(
        s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in policy["Statement"]
    )
    encrypt = _statement(policy, "AllowCloudTrailToEncryptLogs")
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert encrypt["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN


def test_delivery_role_is_assumable_by_this_trail_only_and_writes_its_group_only() -> None:
    trust = rules.trail_logs_assume_role_policy(
        partition="aws", region="us-east-1", account_id=ACCOUNT, name=NAME
    )
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    policy = rules.trail_logs_delivery_policy(log_group_arn="arn:aws:logs:x:1:log-group:/t")
    assert policy["Statement"][0]["Resource"] == "arn:aws:logs:x:1:log-group:/t:log-stream:*"
    assert set(policy["Statement"][0]["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_cis_filters_cover_the_required_controls() -> None:
    keys = {f.key for f in rules.CIS_FILTERS}
    assert keys == {
        "unauthorized-api-calls", "root-usage", "iam-policy-changes", "kms-key-disable-delete",
        "security-group-changes", "nacl-changes", "network-gateway-changes",
        "route-table-changes", "vpc-changes",
    }  # fmt: skip
    kms = next(f for f in rules.CIS_FILTERS if f.key == "kms-key-disable-delete")
    assert "ScheduleKeyDeletion" in kms.pattern and "kms.amazonaws.com" in kms.pattern


def test_cis_alarms_follow_the_switch() -> None:
    on = rules.cis_alarm_specs(NAME, MonitoringConfig())
    off = rules.cis_alarm_specs(NAME, MonitoringConfig.model_validate({"cisAlarmsEnabled": False}))
    assert len(on) == len(rules.CIS_FILTERS)
    assert off == []
    for spec in on:
        assert spec.namespace == rules.CIS_NAMESPACE
        assert spec.metric.startswith(f"{NAME}-")
        assert (REPO_ROOT / spec.runbook_path).is_file()


def test_cis_alarms_without_the_trail_are_refused_by_config() -> None:
    with pytest.raises(ValueError, match="cisAlarmsEnabled"):
        MonitoringConfig.model_validate({"cloudtrailEnabled": False, "cisAlarmsEnabled": True})


@pytest.fixture(scope="module")
def trail_graph() -> ResourceGraph:
    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Parent", "parent")
        created = create_trail(
            TrailInputs(
                name=NAME,
                context=AwsContext.lookup(parent),
                logs_key_arn=LOGS_KEY,
                log_retention_days=400,
                expiration_days=2555,
                protect=True,
                tags={"layer": "monitoring"},
            ),
            parent=parent,
        )
        create_cis_filters(NAME, created.log_group, parent)

    return evaluate_program(program)


def test_trail_is_multi_region_validated_encrypted_and_sent_to_cloudwatch_logs(
    trail_graph: ResourceGraph,
) -> None:
    trail = trail_graph.named(f"{NAME}-trail")
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["kmsKeyId"] == trail_graph.named(f"{NAME}-trail-key").outputs["arn"]
    assert trail.inputs["cloudWatchLogsGroupArn"].endswith(f"log-group:/aws/cloudtrail/{NAME}:*")
    assert trail.inputs["cloudWatchLogsRoleArn"].startswith("arn:aws:iam::")
    assert {trail_graph.by_urn(u).name for u in trail.depends_on} >= {
        f"{NAME}-trail-bucket-policy",
        f"{NAME}-trail-logs-delivery",
    }


def test_trail_log_group_keeps_audit_retention_under_the_logs_key(
    trail_graph: ResourceGraph,
) -> None:
    group = trail_graph.named(f"{NAME}-trail-logs")
    assert group.inputs["retentionInDays"] == 400
    assert group.inputs["kmsKeyId"] == LOGS_KEY
    assert group.protect is True


def test_trail_bucket_is_private_versioned_kms_encrypted_and_expires(
    trail_graph: ResourceGraph,
) -> None:
    block = trail_graph.named(f"{NAME}-trail-bucket-public-access").inputs
    assert all(block[k] is True for k in (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"
    ))  # fmt: skip
    versioning = trail_graph.named(f"{NAME}-trail-bucket-versioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    rule = trail_graph.named(f"{NAME}-trail-bucket-encryption").inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    lifecycle = trail_graph.named(f"{NAME}-trail-bucket-lifecycle").inputs["rules"][0]
    assert lifecycle["expiration"]["days"] == 2555
    policy = json.loads(trail_graph.named(f"{NAME}-trail-bucket-policy").inputs["policy"])
    assert (
        _statement(policy, "AllowCloudTrailWrite")["Condition"]["StringEquals"]["aws:SourceArn"]
        == TRAIL_ARN
    )
    assert trail_graph.named(f"{NAME}-trail-bucket").protect is True


def test_trail_bucket_access_logs_go_to_an_aes256_access_log_bucket(
    trail_graph: ResourceGraph,
) -> None:
    logging = trail_graph.named(f"{NAME}-trail-bucket-logging").inputs
    access = trail_graph.named(f"{NAME}-trail-access-logs")
    assert logging["targetBucket"] == access.id
    assert access.inputs["tags"]["purpose"] == "access-logs"
    rule = trail_graph.named(f"{NAME}-trail-access-logs-encryption").inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    policy = json.loads(trail_graph.named(f"{NAME}-trail-access-logs-policy").inputs["policy"])
    write = _statement(policy, "AllowS3ServerAccessLogs")
    trail_bucket = trail_graph.named(f"{NAME}-trail-bucket")
    assert write["Condition"]["ArnLike"]["aws:SourceArn"] == trail_bucket.outputs["arn"]
    assert write["Resource"].endswith(f"/{logging['targetPrefix']}*")


def test_cis_metric_filters_read_the_trail_log_group(trail_graph: ResourceGraph) -> None:
    filters = trail_graph.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert len(filters) == len(rules.CIS_FILTERS)
    for metric_filter in filters:
        assert metric_filter.inputs["logGroupName"] == f"/aws/cloudtrail/{NAME}"
        assert metric_filter.inputs["metricTransformation"]["namespace"] == rules.CIS_NAMESPACE
