"""Policy documents of the data layer, checked without Pulumi."""

from __future__ import annotations

import json

from components import data_policies

ACCOUNT = "111122223333"


def _principals(document: dict) -> list[object]:
    return [s["Principal"] for s in document["Statement"]]


def test_key_policies_never_name_a_bare_star_principal() -> None:
    documents = [
        data_policies.platform_key_policy(partition="aws", account_id=ACCOUNT),
        data_policies.logs_key_policy(partition="aws", account_id=ACCOUNT, region="eu-west-1"),
    ]
    for document in documents:
        json.dumps(document)
        for principal in _principals(document):
            assert principal not in ("*", {"AWS": "*"})


def test_platform_key_lets_publishing_services_in_only_for_this_account() -> None:
    document = data_policies.platform_key_policy(partition="aws", account_id=ACCOUNT)
    services = document["Statement"][1]
    assert services["Principal"]["Service"] == list(data_policies.PUBLISHING_SERVICES)
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert set(services["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}


def test_logs_key_policy_uses_the_regional_logs_principal_and_partition() -> None:
    document = data_policies.logs_key_policy(
        partition="aws-cn", account_id=ACCOUNT, region="cn-north-1"
    )
    logs = document["Statement"][1]
    assert logs["Principal"] == {"Service": "logs.cn-north-1.amazonaws.com"}
    arn = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert arn == f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:log-group:*"
    assert document["Statement"][0]["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}


def test_logs_bucket_policy_falls_back_to_the_service_principal_in_new_regions() -> None:
    document = data_policies.logs_bucket_policy(
        bucket_arn="arn:aws:s3:::logs",
        source_bucket_arn="arn:aws:s3:::archive",
        account_id=ACCOUNT,
        partition="aws",
        region="ap-southeast-7",
    )
    sids = [s["Sid"] for s in document["Statement"]]
    assert "AllowAlbLogDeliveryRegionalAccount" not in sids
    assert "AllowAlbLogDelivery" in sids
    assert sids[-1] == "DenyInsecureTransport"


def test_logs_bucket_policy_names_the_regional_elb_account_where_one_exists() -> None:
    document = data_policies.logs_bucket_policy(
        bucket_arn="arn:aws:s3:::logs",
        source_bucket_arn="arn:aws:s3:::archive",
        account_id=ACCOUNT,
        partition="aws",
        region="us-east-1",
    )
    regional = next(
        s for s in document["Statement"] if s["Sid"] == "AllowAlbLogDeliveryRegionalAccount"
    )
    assert regional["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert regional["Resource"] == f"arn:aws:s3:::logs/alb/AWSLogs/{ACCOUNT}/*"


def test_topic_policy_lists_actions_explicitly_and_refuses_plain_http() -> None:
    document = data_policies.events_topic_policy(
        topic_arn="arn:aws:sns:us-east-1:1:t", account_id=ACCOUNT, partition="aws"
    )
    owner, deny = document["Statement"]
    assert all(not a.endswith("*") for a in owner["Action"])
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_redrive_documents_have_the_shape_sqs_expects() -> None:
    assert data_policies.redrive_policy(dlq_arn="arn:dlq", max_receive_count=3) == {
        "deadLetterTargetArn": "arn:dlq",
        "maxReceiveCount": 3,
    }
    allow = data_policies.redrive_allow_policy(source_queue_arn="arn:q")
    assert allow == {"redrivePermission": "byQueue", "sourceQueueArns": ["arn:q"]}
