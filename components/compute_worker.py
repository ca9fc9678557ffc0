"""The queue worker: a VPC-attached arm64 Lambda fed by the SQS job queue.

With Datadog on, the function carries the Datadog Lambda extension layer: the app's
OpenTelemetry spans go over OTLP/HTTP to the extension on localhost, which forwards them
to Datadog APM with the API key it reads from Secrets Manager itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components import compute_iam as iam
from components.compute_env import require_no_plain_secrets
from components.compute_gateway import policy_json
from components.config.compute import ComputeConfig

# What the schedule sends and how often; the handler matches the event exactly
# (app/worker/lambda_handler.py: MAINTENANCE_EVENT, kept equal by a test).
MAINTENANCE_EVENT = {"agatha": "maintenance"}
MAINTENANCE_SCHEDULE = "rate(5 minutes)"

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_HANDLER = "app.worker.lambda_handler.handler"
WORKER_RUNTIME = "python3.12"
WORKER_SERVICE = "agatha-worker"

# Datadog's Lambda extension for arm64, pinned (not "latest": a layer change is a deploy).
# Versions and their notes: github.com/DataDog/datadog-lambda-extension/releases.
DATADOG_LAYER_ACCOUNT = "464622532012"
DATADOG_EXTENSION_VERSION = 103
DATADOG_SITE = "datadoghq.com"
# The extension (v88+) receives OTLP traces over HTTP only (datadog-lambda-extension#654,
# #922): the worker exports OTLP/HTTP, not the gRPC the ECS agent sidecar takes.
DATADOG_OTLP_HTTP_ADDRESS = "localhost:4318"


@dataclass(frozen=True)
class WorkerInputs:
    """What the worker function, its role and its event source are built from."""

    config: ComputeConfig
    environment: Mapping[str, pulumi.Input[str]]
    network: Any
    log_retention_days: int
    logs_key_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    queue_arn: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    archive_bucket_arn: pulumi.Input[str]
    secret_arns: list[pulumi.Input[str]]
    # Set only when Datadog is on: the secret holding the Datadog API key.
    datadog_api_key_secret_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class Worker:
    """The worker's resources other parts of the component expose."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    event_source: aws.lambda_.EventSourceMapping
    maintenance_schedule: aws.cloudwatch.EventRule


def worker_code(bundle_path: str, *, root: Path = REPO_ROOT) -> pulumi.Archive:
    """The built bundle when configured, else the ``app/`` folder under an ``app/`` prefix."""
    if bundle_path:
        path = Path(bundle_path)
        return pulumi.FileArchive(str(path if path.is_absolute() else root / path))
    # Nested under "app" so the handler path app.worker... resolves from the zip root.
    return pulumi.AssetArchive({"app": pulumi.FileArchive(str(root / "app"))})


def datadog_layer_arn(region: str) -> str:
    """The pinned arm64 Datadog extension layer in ``region``."""
    return (
        f"arn:aws:lambda:{region}:{DATADOG_LAYER_ACCOUNT}:layer:"
        f"Datadog-Extension-ARM:{DATADOG_EXTENSION_VERSION}"
    )


def datadog_environment(
    *, api_key_secret_arn: pulumi.Input[str], env: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    """What the extension and the app's tracer read (references only, no secret values)."""
    return {
        "DD_SITE": DATADOG_SITE,
        "DD_API_KEY_SECRET_ARN": api_key_secret_arn,
        "DD_SERVICE": WORKER_SERVICE,
        "DD_ENV": env,
        "DD_TRACE_ENABLED": "true",
        "DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT": DATADOG_OTLP_HTTP_ADDRESS,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{DATADOG_OTLP_HTTP_ADDRESS}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SERVICE_NAME": WORKER_SERVICE,
    }


def worker_environment(inputs: WorkerInputs) -> dict[str, pulumi.Input[str]]:
    """The app environment, plus the Datadog extension's settings when Datadog is on."""
    env = dict(inputs.environment)
    # One connection per record of a batch: N concurrent functions x (batch size + 1 or so)
    # connections (app/worker/store.py hot_connections), not N x the gateway-sized pool.
    env["DATABASE_POOL_SIZE"] = str(inputs.config.worker_batch_size)
    env["DATABASE_MAX_OVERFLOW"] = "0"
    env["WORKER_INTERRUPTED_CALLS"] = inputs.config.worker_interrupted_calls
    env["ARCHIVE_SIGNED_PUT"] = "true" if inputs.config.worker_archive_signed_put else "false"
    env["GC_GEN0_THRESHOLD"] = str(inputs.config.worker_gc_gen0_threshold)
    if inputs.datadog_api_key_secret_arn is not None:
        env |= datadog_environment(
            api_key_secret_arn=inputs.datadog_api_key_secret_arn,
            env=env.get("AGATHA_ENV", ""),
        )
    require_no_plain_secrets(env, where="worker function environment")
    return env


def worker_secret_arns(inputs: WorkerInputs) -> list[pulumi.Input[str]]:
    """Secrets the worker role may read: the app's, and the Datadog key for the extension."""
    extra = [inputs.datadog_api_key_secret_arn] if inputs.datadog_api_key_secret_arn else []
    return [*inputs.secret_arns, *extra]


def create_worker(
    name: str, inputs: WorkerInputs, *, tags: dict[str, str], parent: pulumi.Resource
) -> Worker:
    """Role, log group, function and SQS event source of the worker."""
    function_name = f"{name}-worker"
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-worker-logs",
        name=f"/aws/lambda/{function_name}",
        retention_in_days=inputs.log_retention_days,
        kms_key_id=inputs.logs_key_arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    role, policies = _create_role(name, inputs, log_group, tags=tags, parent=parent)
    function = _create_function(
        name, function_name, inputs, role, log_group, depends_on=policies, tags=tags, parent=parent
    )
    event_source = aws.lambda_.EventSourceMapping(
        f"{name}-worker-queue",
        event_source_arn=inputs.queue_arn,
        function_name=function.arn,
        enabled=True,
        batch_size=inputs.config.worker_batch_size,
        maximum_batching_window_in_seconds=inputs.config.worker_batch_window_seconds,
        # Only the failed messages of a batch return to the queue (and, after the
        # redrive count, to the DLQ); the successful ones are deleted.
        function_response_types=["ReportBatchItemFailures"],
        scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
            maximum_concurrency=inputs.config.worker_max_concurrency
        ),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=function, depends_on=policies),
    )
    schedule = _create_maintenance_schedule(name, function, tags=tags, parent=parent)
    return Worker(
        function=function,
        role=role,
        log_group=log_group,
        event_source=event_source,
        maintenance_schedule=schedule,
    )


def _create_maintenance_schedule(
    name: str, function: aws.lambda_.Function, *, tags: dict[str, str], parent: pulumi.Resource
) -> aws.cloudwatch.EventRule:
    """Invoke the worker every few minutes with the maintenance event.

    No poller runs in the cloud, so this is what closes abandoned rows and re-sends lost
    messages there (app/worker/lambda_handler.py, app/worker/runtime.py: sweep).
    """
    rule = aws.cloudwatch.EventRule(
        f"{name}-worker-maintenance",
        name=f"{name}-worker-maintenance",
        description="Worker maintenance: reap abandoned requests, re-send lost job messages",
        schedule_expression=MAINTENANCE_SCHEDULE,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    permission = aws.lambda_.Permission(
        f"{name}-worker-maintenance-invoke",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="events.amazonaws.com",
        source_arn=rule.arn,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.cloudwatch.EventTarget(
        f"{name}-worker-maintenance-target",
        rule=rule.name,
        arn=function.arn,
        input=json.dumps(MAINTENANCE_EVENT),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[permission]),
    )
    return rule


def _create_role(
    name: str,
    inputs: WorkerInputs,
    log_group: aws.cloudwatch.LogGroup,
    *,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
    role = aws.iam.Role(
        f"{name}-worker-role",
        description="Queue worker: consume jobs, call providers, archive results",
        assume_role_policy=iam.to_json(iam.lambda_trust_policy()),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    inline = aws.iam.RolePolicy(
        f"{name}-worker-policy",
        role=role.id,
        policy=policy_json(
            iam.worker_policy,
            queue_arn=inputs.queue_arn,
            topic_arn=inputs.topic_arn,
            kms_key_arn=inputs.kms_key_arn,
            archive_bucket_arn=inputs.archive_bucket_arn,
            log_group_arn=log_group.arn,
            secret_arns=worker_secret_arns(inputs),
        ),
        opts=pulumi.ResourceOptions(parent=role),
    )
    vpc_access = aws.iam.RolePolicyAttachment(
        f"{name}-worker-vpc-access",
        role=role.name,
        policy_arn=iam.LAMBDA_VPC_ACCESS_POLICY_ARN,
        opts=pulumi.ResourceOptions(parent=role),
    )
    return role, [inline, vpc_access]


def _create_function(
    name: str,
    function_name: str,
    inputs: WorkerInputs,
    role: aws.iam.Role,
    log_group: aws.cloudwatch.LogGroup,
    *,
    depends_on: list[pulumi.Resource],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.lambda_.Function:
    config = inputs.config
    reserved = config.worker_reserved_concurrency
    layers: list[pulumi.Input[str]] | None = None
    if inputs.datadog_api_key_secret_arn is not None:
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=parent)).region
        layers = [region.apply(datadog_layer_arn)]
    return aws.lambda_.Function(
        f"{name}-worker",
        name=function_name,
        description="AgathaAI queue worker: runs inference jobs from SQS",
        role=role.arn,
        runtime=WORKER_RUNTIME,
        handler=WORKER_HANDLER,
        code=worker_code(config.worker_bundle_path),
        architectures=["arm64"],
        memory_size=config.worker_memory_mb,
        timeout=config.worker_timeout_seconds,
        reserved_concurrent_executions=reserved if reserved >= 0 else None,
        tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
        # Reaches Aurora and Redis in the VPC; AWS APIs through NAT or the endpoints.
        vpc_config=aws.lambda_.FunctionVpcConfigArgs(
            subnet_ids=inputs.network.private_subnet_ids,
            security_group_ids=[inputs.network.worker_security_group_id],
        ),
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=worker_environment(inputs)),
        layers=layers,
        kms_key_arn=inputs.kms_key_arn,
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="Text", log_group=log_group.name
        ),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group, *depends_on]),
    )
