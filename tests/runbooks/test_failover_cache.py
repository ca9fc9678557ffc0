from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from runbooks.aws import AwsSession
from runbooks.failover_cache import do_failover_cache
from tests.runbooks.opskit import REGION, Platform, make_ctx

GROUP = "agatha-dev-cache"


def _group(primary: str, status: str = "available") -> dict[str, Any]:
    members = [
        {"CacheClusterId": cid, "CurrentRole": "primary" if cid == primary else "replica"}
        for cid in ("agatha-dev-cache-001", "agatha-dev-cache-002")
    ]
    return {
        "ReplicationGroups": [
            {
                "ReplicationGroupId": GROUP,
                "Status": status,
                "AutomaticFailover": "enabled",
                "NodeGroups": [{"NodeGroupId": "0001", "NodeGroupMembers": members}],
            }
        ]
    }


def _session(stub_client: Any) -> AwsSession:
    return AwsSession(region=REGION, clients={"elasticache": stub_client})


def test_without_target_uses_test_failover_and_waits_for_new_primary(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    """moto lacks test_failover (HTTP 500): the exact ElastiCache call sequence is stubbed."""
    client = boto3.client("elasticache", region_name=REGION)
    stub = Stubber(client)
    by_id = {"ReplicationGroupId": GROUP}
    stub.add_response("describe_replication_groups", _group("agatha-dev-cache-001"), by_id)
    stub.add_response(
        "test_failover",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP}},
        {"ReplicationGroupId": GROUP, "NodeGroupId": "0001"},
    )
    stub.add_response(
        "describe_replication_groups", _group("agatha-dev-cache-001", "modifying"), by_id
    )
    stub.add_response("describe_replication_groups", _group("agatha-dev-cache-002"), by_id)
    stub.add_response("describe_replication_groups", _group("agatha-dev-cache-002"), by_id)
    with stub:
        report = do_failover_cache(make_ctx(_session(client), tmp_path))
        stub.assert_no_pending_responses()
    assert report["previous_primary"] == "agatha-dev-cache-001"
    assert report["primary"] == "agatha-dev-cache-002"


def test_with_target_promotes_it_with_primary_cluster_id(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    """The promotion of a named replica is stubbed (moto accepts it without effect)."""
    client = boto3.client("elasticache", region_name=REGION)
    stub = Stubber(client)
    by_id = {"ReplicationGroupId": GROUP}
    target = "agatha-dev-cache-002"
    stub.add_response("describe_replication_groups", _group("agatha-dev-cache-001"), by_id)
    stub.add_response("describe_replication_groups", _group("agatha-dev-cache-001"), by_id)
    stub.add_response(
        "modify_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP}},
        {"ReplicationGroupId": GROUP, "PrimaryClusterId": target, "ApplyImmediately": True},
    )
    stub.add_response("describe_replication_groups", _group(target), by_id)
    stub.add_response("describe_replication_groups", _group(target), by_id)
    with stub:
        report = do_failover_cache(make_ctx(_session(client), tmp_path), target=target)
        stub.assert_no_pending_responses()
    assert report["primary"] == target
