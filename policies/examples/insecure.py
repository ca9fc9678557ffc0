"""A deliberately insecure program: every classic mistake the pack must catch.

Run it with ``policies.examples.insecure.program`` under the mock runtime; the tests
assert which rule ids it fails (``EXPECTED_RULE_IDS``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare

# Rule ids the program below must violate, by the mistake that triggers them.
EXPECTED_RULE_IDS = {
    "public bucket": {"DATA-09"},
    "open SSH": {"NET-03"},
    "unencrypted database": {"DATA-01"},
    "wildcard IAM": {"GOV-01"},
    "Lambda without DLQ": {"CMP-07"},
    "proxied-off DNS": {"EDGE-05"},
}


def program() -> None:
    """Create the insecure resources (no tags, no encryption, nothing private)."""
    _public_bucket()
    _open_ssh_and_plain_database()
    role = _wildcard_role()
    _worker_without_dlq(role)
    _unproxied_dns()


def _document(*statements: Mapping[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [dict(s) for s in statements]})


def _public_bucket() -> None:
    bucket = aws.s3.Bucket("public-archive")
    aws.s3.BucketPublicAccessBlock(
        "public-archive-pab",
        bucket=bucket.id,
        block_public_acls=False,
        block_public_policy=False,
        ignore_public_acls=False,
        restrict_public_buckets=False,
    )
    public_read = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    aws.s3.BucketPolicy(
        "public-archive-policy",
        bucket=bucket.id,
        policy=_document(public_read),
    )


def _open_ssh_and_plain_database() -> None:
    aws.ec2.SecurityGroup(
        "ssh",
        description="admin",
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"]
            )
        ],
    )
    aws.rds.Cluster(
        "db",
        engine="aurora-postgresql",
        master_username="admin",
        master_password="password123",
        skip_final_snapshot=True,
    )


def _wildcard_role() -> aws.iam.Role:
    trust = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    role = aws.iam.Role("worker", assume_role_policy=_document(trust))
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    aws.iam.RolePolicy("worker-all", role=role.id, policy=_document(everything))
    return role


def _worker_without_dlq(role: aws.iam.Role) -> None:
    queue = aws.sqs.Queue("jobs")
    worker = aws.lambda_.Function(
        "worker",
        role=role.arn,
        runtime="python3.12",
        handler="app.handler",
        timeout=60,
        code=pulumi.AssetArchive({"app.py": pulumi.StringAsset("def handler(e, c): pass")}),
    )
    aws.lambda_.EventSourceMapping(
        "jobs-source", event_source_arn=queue.arn, function_name=worker.arn
    )


def _unproxied_dns() -> None:
    cloudflare.DnsRecord(
        "api",
        zone_id="0123456789abcdef0123456789abcdef",
        name="api.agatha.ai",
        type="CNAME",
        content="origin.elb.amazonaws.com",
        ttl=300,
        proxied=False,
    )
