"""The gateway on ECS Fargate: cluster, roles, task definition, service and autoscaling."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_aws import appautoscaling as scaling

from components import compute_iam as iam
from components.compute_alb import LoadBalancing
from components.compute_containers import (
    GATEWAY_CONTAINER,
    GatewayTaskSpec,
    image_reference,
    task_containers,
    task_volume_names,
)
from components.config.compute import ComputeConfig

# The SDK's generated class name does not fit on one line where it is used.
_MetricSpecArgs = (
    scaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs
)


@dataclass(frozen=True)
class GatewayInputs:
    """What the gateway's task definition and roles are built from."""

    config: ComputeConfig
    environment: Mapping[str, pulumi.Input[str]]
    repository: aws.ecr.Repository
    log_group: aws.cloudwatch.LogGroup
    region: pulumi.Input[str]
    account_id: pulumi.Input[str]
    port: int
    kms_key_arn: pulumi.Input[str]
    queue_arn: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    secret_arns: list[pulumi.Input[str]]
    prometheus_remote_write_url: pulumi.Input[str] | None = None
    prometheus_workspace_arn: pulumi.Input[str] | None = None
    datadog_api_key_secret_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class GatewayRoles:
    """Execution role (ECS agent) and task role (app code): never the same role."""

    execution: aws.iam.Role
    task: aws.iam.Role
    policies: list[aws.iam.RolePolicy]


def policy_json(build: Callable[..., dict[str, Any]], **inputs: Any) -> pulumi.Output[str]:
    """``build(**resolved inputs)`` as JSON once every input is known."""
    return pulumi.Output.all(**inputs).apply(lambda values: iam.to_json(build(**values)))


def create_cluster(name: str, *, tags: dict[str, str], parent: pulumi.Resource) -> aws.ecs.Cluster:
    """The ECS cluster with Container Insights."""
    return aws.ecs.Cluster(
        f"{name}-cluster",
        name=name,
        settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def create_roles(
    name: str, inputs: GatewayInputs, *, tags: dict[str, str], parent: pulumi.Resource
) -> GatewayRoles:
    """Execution and task roles with inline policies scoped to exact ARNs."""
    trust = pulumi.Output.from_input(inputs.account_id).apply(
        lambda account: iam.to_json(iam.ecs_tasks_trust_policy(account_id=account))
    )
    execution = aws.iam.Role(
        f"{name}-gateway-execution-role",
        description="ECS agent for the gateway: pull the image, write logs, resolve secrets",
        assume_role_policy=trust,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    task = aws.iam.Role(
        f"{name}-gateway-task-role",
        description="Gateway application code: enqueue jobs, read its secrets, publish events",
        assume_role_policy=trust,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    container_secrets = (
        [inputs.datadog_api_key_secret_arn] if inputs.datadog_api_key_secret_arn else []
    )
    execution_policy = aws.iam.RolePolicy(
        f"{name}-gateway-execution-policy",
        role=execution.id,
        policy=policy_json(
            iam.execution_role_policy,
            repository_arn=inputs.repository.arn,
            log_group_arn=inputs.log_group.arn,
            kms_key_arn=inputs.kms_key_arn,
            secret_arns=container_secrets,
        ),
        opts=pulumi.ResourceOptions(parent=execution),
    )
    task_policy = aws.iam.RolePolicy(
        f"{name}-gateway-task-policy",
        role=task.id,
        policy=policy_json(
            iam.gateway_task_policy,
            queue_arn=inputs.queue_arn,
            topic_arn=inputs.topic_arn,
            kms_key_arn=inputs.kms_key_arn,
            secret_arns=inputs.secret_arns,
            aps_workspace_arn=inputs.prometheus_workspace_arn,
        ),
        opts=pulumi.ResourceOptions(parent=task),
    )
    return GatewayRoles(execution=execution, task=task, policies=[execution_policy, task_policy])


def create_task_definition(
    name: str,
    inputs: GatewayInputs,
    roles: GatewayRoles,
    *,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.ecs.TaskDefinition:
    """arm64 Fargate task: the gateway container and the optional telemetry sidecars."""
    config = inputs.config
    volumes = task_volume_names(
        prometheus=inputs.prometheus_remote_write_url is not None,
        datadog=inputs.datadog_api_key_secret_arn is not None,
    )
    return aws.ecs.TaskDefinition(
        f"{name}-gateway-task",
        family=f"{name}-gateway",
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu=str(config.gateway_cpu),
        memory=str(config.gateway_memory),
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            cpu_architecture="ARM64", operating_system_family="LINUX"
        ),
        execution_role_arn=roles.execution.arn,
        task_role_arn=roles.task.arn,
        container_definitions=_container_definitions(inputs),
        volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=volume) for volume in volumes],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _container_definitions(inputs: GatewayInputs) -> pulumi.Output[str]:
    tag = inputs.config.gateway_image_tag
    return pulumi.Output.all(
        repository_url=inputs.repository.repository_url,
        environment=pulumi.Output.all(**inputs.environment),
        log_group=inputs.log_group.name,
        region=inputs.region,
        remote_write=inputs.prometheus_remote_write_url,
        datadog_key=inputs.datadog_api_key_secret_arn,
    ).apply(
        lambda v: json.dumps(
            task_containers(
                GatewayTaskSpec(
                    image=image_reference(v["repository_url"], tag),
                    port=inputs.port,
                    environment=v["environment"],
                    log_group=v["log_group"],
                    region=v["region"],
                    prometheus_remote_write_url=v["remote_write"],
                    datadog_api_key_secret_arn=v["datadog_key"],
                )
            ),
            sort_keys=True,
        )
    )


def create_service(
    name: str,
    *,
    config: ComputeConfig,
    cluster: aws.ecs.Cluster,
    task_definition: aws.ecs.TaskDefinition,
    lb: LoadBalancing,
    network: Any,
    port: int,
    depends_on: list[pulumi.Resource],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.ecs.Service:
    """Fargate service in the private subnets, registered with the ALB's target group."""
    return aws.ecs.Service(
        f"{name}-gateway-service",
        name=f"{name}-gateway",
        cluster=cluster.arn,
        task_definition=task_definition.arn,
        launch_type="FARGATE",
        platform_version="LATEST",
        desired_count=config.gateway_desired_count,
        network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
            subnets=network.private_subnet_ids,
            security_groups=[network.gateway_security_group_id],
            assign_public_ip=False,
        ),
        load_balancers=[
            aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=lb.target_group.arn,
                container_name=GATEWAY_CONTAINER,
                container_port=port,
            )
        ],
        health_check_grace_period_seconds=60,
        deployment_minimum_healthy_percent=100,
        deployment_maximum_percent=200,
        deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
            enable=True, rollback=True
        ),
        # Operators get a shell through SSM Session Manager instead of a bastion host.
        enable_execute_command=True,
        enable_ecs_managed_tags=True,
        propagate_tags="SERVICE",
        tags=tags,
        opts=pulumi.ResourceOptions(
            parent=parent,
            # The target group must be attached to the ALB before ECS registers tasks.
            depends_on=[lb.https_listener, lb.http_listener, *depends_on],
            # Autoscaling owns the running count after creation.
            ignore_changes=["desiredCount"],
        ),
    )


def create_autoscaling(
    name: str,
    *,
    config: ComputeConfig,
    cluster: aws.ecs.Cluster,
    service: aws.ecs.Service,
    lb: LoadBalancing,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.appautoscaling.Target:
    """Scale the service on CPU and on ALB requests per task."""
    target = aws.appautoscaling.Target(
        f"{name}-gateway-scaling",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name),
        min_capacity=config.gateway_min_count,
        max_capacity=config.gateway_max_count,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    metrics: dict[str, tuple[str, float, pulumi.Input[str] | None]] = {
        "cpu": ("ECSServiceAverageCPUUtilization", config.gateway_cpu_target, None),
        "requests": (
            "ALBRequestCountPerTarget",
            config.gateway_requests_per_target,
            pulumi.Output.concat(lb.alb.arn_suffix, "/", lb.target_group.arn_suffix),
        ),
    }
    for suffix, (metric, value, label) in metrics.items():
        aws.appautoscaling.Policy(
            f"{name}-gateway-scale-{suffix}",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=(
                aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=value,
                    # Scale out fast on a burst, in slowly so we do not flap.
                    scale_out_cooldown=60,
                    scale_in_cooldown=300,
                    predefined_metric_specification=_MetricSpecArgs(
                        predefined_metric_type=metric, resource_label=label
                    ),
                )
            ),
            opts=pulumi.ResourceOptions(parent=target),
        )
    return target
