"""Plausible cloud values the mock runtime answers with (ids, ARNs, endpoints, lookups).

Deterministic: the same program and config always produce the same graph.
"""

from __future__ import annotations

import hashlib
from typing import Any

from agatha.errors import AgathaError

ACCOUNT_ID = "123456789012"

# Cloudflare's published ranges (https://www.cloudflare.com/ips/), as the IP-ranges lookup
# returns them; a snapshot is enough for offline plans, the real lookup runs under `pulumi up`.
CLOUDFLARE_IPV4 = [
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22",
    "141.101.64.0/18", "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20",
    "197.234.240.0/22", "198.41.128.0/17", "162.158.0.0/15", "104.16.0.0/13",
    "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
]  # fmt: skip
CLOUDFLARE_IPV6 = [
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32",
    "2405:8100::/32", "2a06:98c0::/29", "2c0f:f248::/32",
]  # fmt: skip


class UnmockedCallError(AgathaError):
    """The program made a provider call the offline runtime has no answer for."""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:17]


def _service_of(type_token: str) -> str:
    # "aws:sqs/queue:Queue" -> "sqs"
    return type_token.split(":")[1].split("/", maxsplit=1)[0] if ":" in type_token else "resource"


def resource_state(
    type_token: str,
    name: str,
    inputs: dict[str, Any],
    *,
    region: str,
    import_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The (id, state) a provider would return after creating ``name``."""
    resource_id = import_id or f"{name}-{_short_hash(type_token + name)[:8]}"
    state = dict(inputs)
    if type_token.startswith("aws:"):
        service = _service_of(type_token)
        physical = str(inputs.get("name") or resource_id)
        state.setdefault("arn", f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{physical}")
        state.setdefault("tagsAll", inputs.get("tags", {}))
    state.update(_type_specific(type_token, name, inputs, resource_id, region))
    return resource_id, state


def _type_specific(
    type_token: str, name: str, inputs: dict[str, Any], resource_id: str, region: str
) -> dict[str, Any]:
    physical = str(inputs.get("name") or resource_id)
    arn_prefix = f"arn:aws:{{}}:{region}:{ACCOUNT_ID}"
    table: dict[str, dict[str, Any]] = {
        "aws:sqs/queue:Queue": {
            "url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{physical}",
            "arn": f"{arn_prefix.format('sqs')}:{physical}",
        },
        "aws:s3/bucket:Bucket": {
            "bucket": str(inputs.get("bucket") or physical),
            "arn": f"arn:aws:s3:::{inputs.get('bucket') or physical}",
            "bucketRegionalDomainName": f"{physical}.s3.{region}.amazonaws.com",
        },
        "aws:lb/loadBalancer:LoadBalancer": {
            "dnsName": f"{physical}-1234567890.{region}.elb.amazonaws.com",
            "zoneId": "Z35SXDOTRQ7X7K",
            "arnSuffix": f"app/{physical}/50dc6c495c0c9188",
        },
        "aws:lb/targetGroup:TargetGroup": {"arnSuffix": f"targetgroup/{physical}/73e2d6bc24d8a067"},
        "aws:rds/cluster:Cluster": {
            "endpoint": f"{physical}.cluster-abc.{region}.rds.amazonaws.com",
            "readerEndpoint": f"{physical}.cluster-ro-abc.{region}.rds.amazonaws.com",
            "clusterIdentifier": str(inputs.get("clusterIdentifier") or physical),
            "port": 5432,
            "masterUserSecrets": [
                {"secretArn": f"{arn_prefix.format('secretsmanager')}:secret:rds!{physical}-AbCdEf"}
            ],
        },
        "aws:elasticache/replicationGroup:ReplicationGroup": {
            "primaryEndpointAddress": f"master.{physical}.abc.use1.cache.amazonaws.com",
            "readerEndpointAddress": f"replica.{physical}.abc.use1.cache.amazonaws.com",
            "port": 6379,
        },
        "aws:ecr/repository:Repository": {
            "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{physical}",
        },
        "aws:lambda/function:Function": {
            "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/functions/{physical}",
            "qualifiedArn": f"{arn_prefix.format('lambda')}:function:{physical}:1",
            "arn": f"{arn_prefix.format('lambda')}:function:{physical}",
        },
        "aws:kms/key:Key": {
            "keyId": resource_id,
            "arn": f"{arn_prefix.format('kms')}:key/{resource_id}",
        },
        "aws:iam/role:Role": {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}"},
        "aws:secretsmanager/secret:Secret": {
            "arn": f"{arn_prefix.format('secretsmanager')}:secret:{physical}-AbCdEf",
        },
        "aws:ssm/parameter:Parameter": {
            "arn": f"{arn_prefix.format('ssm')}:parameter{inputs.get('name', '/' + physical)}",
        },
        "aws:cloudwatch/logGroup:LogGroup": {
            "arn": f"{arn_prefix.format('logs')}:log-group:{physical}",
        },
        "aws:ecs/cluster:Cluster": {"arn": f"{arn_prefix.format('ecs')}:cluster/{physical}"},
        "aws:ecs/service:Service": {"name": physical},
        "aws:sns/topic:Topic": {"arn": f"{arn_prefix.format('sns')}:{physical}"},
        "aws:ec2/vpc:Vpc": {"defaultSecurityGroupId": f"sg-default-{resource_id[-6:]}"},
        # Auto-named by the provider (name + random suffix) when no name is given.
        "aws:rds/clusterParameterGroup:ClusterParameterGroup": {"name": physical},
        "aws:elasticache/parameterGroup:ParameterGroup": {"name": physical},
        "aws:amp/workspace:Workspace": {
            "arn": f"{arn_prefix.format('aps')}:workspace/ws-{resource_id[-8:]}",
            "prometheusEndpoint": (
                f"https://aps-workspaces.{region}.amazonaws.com/workspaces/ws-{resource_id[-8:]}/"
            ),
        },
        "aws:grafana/workspace:Workspace": {
            "endpoint": f"g-{resource_id[-10:]}.grafana-workspace.{region}.amazonaws.com",
        },
        "aws:rds/subnetGroup:SubnetGroup": {"name": physical},
        "aws:elasticache/subnetGroup:SubnetGroup": {"name": physical},
    }
    return table.get(type_token, {})


def call_result(token: str, args: dict[str, Any], *, region: str) -> dict[str, Any]:
    """The answer to a provider function call (data source lookup)."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        letters = "abcdef"
        return {
            "names": [f"{region}{c}" for c in letters],
            "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))],
            "id": region,
        }
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
            "userId": "AIDAMOCK",
            "id": ACCOUNT_ID,
        }
    if token in ("aws:index/getRegion:getRegion",):
        return {
            "name": region,
            "region": region,
            "id": region,
            "endpoint": f"ec2.{region}.amazonaws.com",
        }
    if token == "aws:index/getPartition:getPartition":
        return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
    if token == "aws:secretsmanager/getRandomPassword:getRandomPassword":
        # Deterministic and obviously fake: offline plans never hold a real credential.
        length = int(args.get("passwordLength") or 32)
        return {"randomPassword": ("MockToken0" * 13)[:length], "id": "mock-random-password"}
    if token == "cloudflare:index/getIpRanges:getIpRanges":
        return {
            "ipv4Cidrs": CLOUDFLARE_IPV4,
            "ipv6Cidrs": CLOUDFLARE_IPV6,
            "id": "cloudflare-ip-ranges",
        }
    raise UnmockedCallError(
        f"the offline runtime has no answer for provider call {token}; "
        "add one to agatha/plan/mock_values.py call_result()"
    )
