"""Helpers for the runbook tests: fake clock, context factory, emulator seeding."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from components.naming import ssm_prefix
from components.published_outputs import PUBLISHED_KEYS
from runbooks.audit import AuditLog
from runbooks.aws import AwsSession
from runbooks.context import OpsContext
from runbooks.waiting import Waiter

REGION = "us-east-1"
STACK = "dev"
START = datetime(2030, 1, 1, tzinfo=UTC)


class FakeClock:
    """Monotonic time that only moves when the code under test 'sleeps'."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 1.0)


def make_ctx(
    aws: AwsSession,
    tmp_path: Path,
    *,
    production: bool = False,
    dry_run: bool = False,
    answer: bool = True,
    now: datetime = START,
    clock: FakeClock | None = None,
) -> OpsContext:
    clock = clock or FakeClock()
    prompts: list[str] = []

    def confirm(prompt: str) -> bool:
        prompts.append(prompt)
        return answer

    ctx = OpsContext(
        stack=STACK,
        aws=aws,
        audit=AuditLog(tmp_path / "audit.log"),
        production=production,
        dry_run=dry_run,
        log=lambda _m: None,
        confirm=confirm,
        now=lambda: now,
        waiter=Waiter(clock=clock, sleep=clock.sleep, interval=5.0, show_progress=False),
    )
    ctx.prompts = prompts  # type: ignore[attr-defined]
    return ctx


@dataclass
class Platform:
    """Identifiers of the seeded stack."""

    outputs: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.outputs[key]


@functools.cache
def client(service: str) -> Any:
    """One client per service for seeding (creating clients dominates the seed time)."""
    make_client: Any = boto3.client  # the stubs' per-service overloads need literals
    return make_client(service, region_name=REGION)


def _secret(name: str, value: str) -> str:
    return str(client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"])


def _seed_secrets(outputs: dict[str, str]) -> None:
    outputs["db-master-secret-arn"] = _secret(
        "agatha-dev-db-master", json.dumps({"username": "agatha", "password": "old-password"})
    )
    outputs["cache-auth-secret-arn"] = _secret(
        "agatha-dev-cache-auth", json.dumps({"auth_token": "old-token-0123456789"})
    )
    keys = {
        "keys": [
            {
                "kid": "k1",
                "secret": "s1",
                "status": "current",
                "created_at": "2029-12-01T00:00:00+00:00",
            }
        ]
    }
    outputs["jwt-signing-secret-arn"] = _secret("agatha-dev-jwt", json.dumps(keys))
    for name in (
        "openai",
        "anthropic",
        "together",
        "google",
        "stripe",
        "paypal",
        "sendgrid",
        "twilio",
    ):
        outputs[f"secret-arn-{name}"] = _secret(f"agatha-dev-{name}", f"old-{name}-key")


def _seed_database(outputs: dict[str, str]) -> None:
    rds = client("rds")
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="agatha-dev-db",
        Engine="aurora-postgresql",
        MasterUsername="agatha",
        MasterUserPassword="old-password",
    )["DBCluster"]
    for index, tier in enumerate((0, 2, 1)):
        rds.create_db_instance(
            DBInstanceIdentifier=f"agatha-dev-db-{index}",
            DBClusterIdentifier="agatha-dev-db",
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
            PromotionTier=tier,
        )
    outputs["db-cluster-id"] = "agatha-dev-db"
    outputs["db-endpoint"] = str(cluster["Endpoint"])


def _seed_queues(outputs: dict[str, str]) -> None:
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="agatha-dev-jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": "5"}
    queue = sqs.create_queue(
        QueueName="agatha-dev-jobs", Attributes={"RedrivePolicy": json.dumps(redrive)}
    )["QueueUrl"]
    outputs["queue-url"], outputs["dlq-url"] = queue, dlq


def _seed_compute_and_cache(outputs: dict[str, str]) -> None:
    ecs = client("ecs")
    ecs.create_cluster(clusterName="agatha-dev")
    ecs.register_task_definition(
        family="agatha-dev-gateway",
        containerDefinitions=[{"name": "gw", "image": "x", "memory": 512}],
    )
    ecs.create_service(
        cluster="agatha-dev",
        serviceName="agatha-dev-gateway",
        taskDefinition="agatha-dev-gateway",
        desiredCount=2,
    )
    outputs["ecs-cluster-name"], outputs["gateway-service-name"] = (
        "agatha-dev",
        "agatha-dev-gateway",
    )
    outputs["worker-function-name"] = "agatha-dev-worker"
    client("elasticache").create_replication_group(
        ReplicationGroupId="agatha-dev-cache",
        ReplicationGroupDescription="cache",
        NumCacheClusters=2,
        CacheNodeType="cache.t4g.small",
        Engine="redis",
        AutomaticFailoverEnabled=True,
        TransitEncryptionEnabled=True,
        AuthToken="old-token-0123456789",
    )
    outputs["cache-replication-group-id"] = "agatha-dev-cache"


def publish(outputs: dict[str, str], *, stack: str = STACK) -> None:
    """Write the outputs as the stack does: String parameters under the stack's SSM prefix."""
    ssm = client("ssm")
    prefix = ssm_prefix(service="agatha", stack=stack)
    for key in sorted(PUBLISHED_KEYS):
        ssm.put_parameter(
            Name=f"{prefix}{key}",
            Value=outputs.get(key, f"unused-{key}"),
            Type="String",
            Overwrite=True,
        )


def seed_platform() -> Platform:
    """Create every resource the runbooks touch and publish their ids to SSM."""
    outputs: dict[str, str] = {}
    _seed_secrets(outputs)
    _seed_database(outputs)
    _seed_queues(outputs)
    _seed_compute_and_cache(outputs)
    publish(outputs)
    return Platform(outputs)


def secret_value(secret_id: str, stage: str = "AWSCURRENT") -> str:
    return str(
        client("secretsmanager").get_secret_value(SecretId=secret_id, VersionStage=stage)[
            "SecretString"
        ]
    )


def stages(secret_id: str) -> dict[str, list[str]]:
    described = client("secretsmanager").describe_secret(SecretId=secret_id)
    return {k: sorted(v) for k, v in described["VersionIdsToStages"].items()}
