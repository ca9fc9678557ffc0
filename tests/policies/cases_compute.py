"""Violating and compliant programs for the CMP rules."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from tests.policies.helpers import ACCOUNT, PROD_TAGS, Case

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/worker"


def cluster(*, insights: bool) -> None:
    settings = (
        [aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")]
        if insights
        else None
    )
    aws.ecs.Cluster("cluster", settings=settings, tags=PROD_TAGS)


def service(*, safe: bool) -> None:
    aws.ecs.Service(
        "svc",
        cluster="arn:cluster",
        desired_count=3 if safe else 1,
        network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
            subnets=["s"], assign_public_ip=not safe
        ),
        deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
            enable=safe, rollback=safe
        ),
        tags=PROD_TAGS,
    )


def task(*, safe: bool, environment: list[dict[str, str]] | None = None) -> None:
    container = {
        "name": "gateway",
        "image": "repo:1",
        "privileged": not safe,
        "readonlyRootFilesystem": safe,
        "environment": environment or [],
        "logConfiguration": {"logDriver": "awslogs", "options": {}},
    }
    if safe:
        container["user"] = "10001"
    aws.ecs.TaskDefinition(
        "task",
        family="gateway",
        container_definitions=json.dumps([container]),
        execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/exec",
        task_role_arn=f"arn:aws:iam::{ACCOUNT}:role/task"
        if safe
        else f"arn:aws:iam::{ACCOUNT}:role/exec",
        tags=PROD_TAGS,
    )


def function(name: str = "worker", **overrides: object) -> aws.lambda_.Function:
    settings: dict[str, object] = {
        "role": ROLE_ARN,
        "runtime": "python3.12",
        "handler": "app.handler",
        "code": pulumi.AssetArchive({"app.py": pulumi.StringAsset("def handler(e, c): pass")}),
        "memory_size": 512,
        "timeout": 120,
        "tracing_config": aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
        "reserved_concurrent_executions": 10,
        "tags": PROD_TAGS,
    }
    settings.update(overrides)
    return aws.lambda_.Function(name, **settings)  # type: ignore[call-overload]


def repository(*, safe: bool, named: bool = True) -> None:
    repo = aws.ecr.Repository(
        "repo",
        name="agatha-gateway" if named else None,
        image_tag_mutability="IMMUTABLE" if safe else "MUTABLE",
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=safe
        ),
        encryption_configurations=[
            aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")
        ],
        tags=PROD_TAGS,
    )
    if safe:
        aws.ecr.LifecyclePolicy(
            "repo-lifecycle", repository=repo.name, policy=json.dumps({"rules": []})
        )


def event_source(*, safe: bool) -> None:
    dlq = aws.sqs.Queue("dlq", tags=PROD_TAGS)
    redrive = dlq.arn.apply(
        lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})
    )
    queue = aws.sqs.Queue(
        "jobs",
        visibility_timeout_seconds=720 if safe else 30,
        redrive_policy=redrive if safe else None,
        tags=PROD_TAGS,
    )
    worker = function(reserved_concurrent_executions=None)
    aws.lambda_.EventSourceMapping(
        "jobs-source",
        event_source_arn=queue.arn,
        function_name=worker.arn,
        function_response_types=["ReportBatchItemFailures"] if safe else None,
        scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(maximum_concurrency=5)
        if safe
        else None,
        tags=PROD_TAGS,
    )


def permission(*, principal: str, source_arn: str | None) -> None:
    aws.lambda_.Permission(
        "invoke",
        action="lambda:InvokeFunction",
        function="worker",
        principal=principal,
        source_arn=source_arn,
    )


def function_url(auth: str) -> None:
    aws.lambda_.FunctionUrl("url", function_name="worker", authorization_type=auth)


CASES: list[Case] = [
    ("CMP-01", False, lambda: cluster(insights=False)),
    ("CMP-01", True, lambda: cluster(insights=True)),
    ("CMP-02", False, lambda: service(safe=False)),
    ("CMP-02", True, lambda: service(safe=True)),
    ("CMP-03", False, lambda: task(safe=False)),
    ("CMP-03", True, lambda: task(safe=True)),
    (
        "CMP-04",
        False,
        lambda: function(
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"OPENAI_API_KEY": "sk-abcdefghijklmnopqrstuvwx"}
            )
        ),
    ),
    (
        "CMP-04",
        False,
        lambda: task(safe=True, environment=[{"name": "DB_PASSWORD", "value": "hunter2"}]),
    ),
    (
        "CMP-04",
        True,
        lambda: function(
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"OPENAI_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x"}
            )
        ),
    ),
    ("CMP-05", False, lambda: repository(safe=False)),
    ("CMP-05", True, lambda: repository(safe=True)),
    ("CMP-06", False, lambda: function(runtime="python3.8")),
    (
        "CMP-06",
        False,
        lambda: function(
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"DATABASE_HOST": "db"})
        ),
    ),
    (
        "CMP-06",
        True,
        lambda: function(
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"DATABASE_HOST": "db"}),
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=["s"], security_group_ids=["g"]
            ),
        ),
    ),
    ("CMP-07", False, lambda: event_source(safe=False)),
    ("CMP-07", True, lambda: event_source(safe=True)),
    ("CMP-08", False, lambda: function(reserved_concurrent_executions=None)),
    ("CMP-08", True, function),
    ("CMP-08", True, lambda: event_source(safe=True)),
    ("CMP-09", False, lambda: permission(principal="*", source_arn=None)),
    ("CMP-09", False, lambda: function_url("NONE")),
    ("CMP-09", True, lambda: permission(principal="sns.amazonaws.com", source_arn="arn:aws:sns:x")),
    ("CMP-09", True, lambda: function_url("AWS_IAM")),
]
