"""Compute layer: the gateway on ECS Fargate behind an HTTPS ALB, and the Lambda worker.

The parts live in ``compute_*.py``: registry (ECR), alb, gateway (cluster, roles, task,
service, autoscaling), worker (Lambda + SQS event source), iam (policy documents),
containers (container definitions) and env (the app environment). This class wires them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components import compute_gateway as gateway
from components.compute_alb import create_load_balancing
from components.compute_env import (
    AppEnvSettings,
    app_environment,
    lambda_environment,
    require_no_plain_secrets,
)
from components.compute_registry import create_repository
from components.compute_worker import WorkerInputs, create_worker
from components.config.compute import ComputeConfig
from components.config.general import GeneralConfig
from components.network import GATEWAY_CONTAINER_PORT
from components.published_outputs import PROVIDER_SECRETS

if TYPE_CHECKING:
    from components.data import Data
    from components.network import Network


@dataclass
class ComputeArgs:
    """Inputs of the compute layer (see CONTRACTS.md)."""

    config: ComputeConfig
    general: GeneralConfig
    network: Network
    data: Data
    log_retention_days: int
    tags: dict[str, str] = field(default_factory=dict)
    prometheus_remote_write_url: pulumi.Input[str] | None = None
    prometheus_workspace_arn: pulumi.Input[str] | None = None
    datadog_enabled: bool = False
    datadog_api_key_secret_arn: pulumi.Input[str] | None = None


class Compute(pulumi.ComponentResource):
    """ECR, ECS cluster, gateway service + ALB + autoscaling, and the queue worker."""

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    gateway_service_name: pulumi.Output[str]
    gateway_repository_url: pulumi.Output[str]
    alb_arn: pulumi.Output[str]
    alb_arn_suffix: pulumi.Output[str]
    alb_dns_name: pulumi.Output[str]
    alb_zone_id: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    worker_function_name: pulumi.Output[str]
    worker_function_arn: pulumi.Output[str]
    gateway_log_group_name: pulumi.Output[str]
    worker_log_group_name: pulumi.Output[str]
    gateway_task_role_arn: pulumi.Output[str]
    worker_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:compute:Compute", name, None, opts)
        _check_args(args)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        environment = app_environment(
            AppEnvSettings(
                environment=args.general.environment,
                region=region,
                log_level=args.config.log_level,
                jwt_issuer=args.config.jwt_issuer,
                jwt_audience=args.config.jwt_audience,
            ),
            args.data,
        )
        require_no_plain_secrets(environment, where="compute app environment")
        self._create_gateway(name, args, environment, region=region, account_id=account_id)
        self._create_worker(name, args, environment)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "gatewayServiceName": self.gateway_service_name,
                "albDnsName": self.alb_dns_name,
                "workerFunctionName": self.worker_function_name,
            }
        )

    def published(self) -> dict[str, pulumi.Input[str]]:
        """The compute keys of components/published_outputs.py."""
        return {
            "alb-dns-name": self.alb_dns_name,
            "alb-arn-suffix": self.alb_arn_suffix,
            "ecs-cluster-name": self.cluster_name,
            "gateway-service-name": self.gateway_service_name,
            "gateway-repository-url": self.gateway_repository_url,
            "worker-function-name": self.worker_function_name,
        }

    def _create_gateway(
        self,
        name: str,
        args: ComputeArgs,
        environment: dict[str, pulumi.Input[str]],
        *,
        region: pulumi.Input[str],
        account_id: pulumi.Input[str],
    ) -> None:
        data, tags = args.data, args.tags
        repository = create_repository(
            name, kms_key_arn=data.platform_key_arn, tags=tags, parent=self
        )
        cluster = gateway.create_cluster(name, tags=tags, parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-gateway-logs",
            name=f"/ecs/{name}/gateway",
            retention_in_days=args.log_retention_days,
            kms_key_id=data.logs_key_arn,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        inputs = _gateway_inputs(
            args,
            environment,
            repository=repository,
            log_group=log_group,
            region=region,
            account_id=account_id,
        )
        roles = gateway.create_roles(name, inputs, tags=tags, parent=self)
        task_definition = gateway.create_task_definition(
            name, inputs, roles, tags=tags, parent=self
        )
        self._create_service(
            name, args, cluster=cluster, task_definition=task_definition, roles=roles
        )
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.gateway_repository_url = repository.repository_url
        self.gateway_log_group_name = log_group.name
        self.gateway_task_role_arn = roles.task.arn

    def _create_service(
        self,
        name: str,
        args: ComputeArgs,
        *,
        cluster: aws.ecs.Cluster,
        task_definition: aws.ecs.TaskDefinition,
        roles: gateway.GatewayRoles,
    ) -> None:
        lb = create_load_balancing(
            name,
            config=args.config,
            network=args.network,
            logs_bucket_name=args.data.logs_bucket_name,
            port=GATEWAY_CONTAINER_PORT,
            tags=args.tags,
            parent=self,
        )
        service = gateway.create_service(
            name,
            config=args.config,
            cluster=cluster,
            task_definition=task_definition,
            lb=lb,
            network=args.network,
            port=GATEWAY_CONTAINER_PORT,
            depends_on=list(roles.policies),
            tags=args.tags,
            parent=self,
        )
        gateway.create_autoscaling(
            name,
            config=args.config,
            cluster=cluster,
            service=service,
            lb=lb,
            tags=args.tags,
            parent=self,
        )
        self.gateway_service_name = service.name
        self.alb_arn = lb.alb.arn
        self.alb_arn_suffix = lb.alb.arn_suffix
        self.alb_dns_name = lb.alb.dns_name
        self.alb_zone_id = lb.alb.zone_id
        self.target_group_arn_suffix = lb.target_group.arn_suffix

    def _create_worker(
        self, name: str, args: ComputeArgs, environment: dict[str, pulumi.Input[str]]
    ) -> None:
        data = args.data
        worker = create_worker(
            name,
            WorkerInputs(
                config=args.config,
                environment=lambda_environment(environment),
                network=args.network,
                log_retention_days=args.log_retention_days,
                logs_key_arn=data.logs_key_arn,
                kms_key_arn=data.platform_key_arn,
                queue_arn=data.queue_arn,
                topic_arn=data.events_topic_arn,
                archive_bucket_arn=data.archive_bucket_arn,
                # The worker never signs or checks JWTs: no JWT secret here.
                secret_arns=[
                    data.db_master_secret_arn,
                    data.cache_auth_secret_arn,
                    *(data.provider_secret_arns[p] for p in PROVIDER_SECRETS),
                ],
                datadog_api_key_secret_arn=(
                    args.datadog_api_key_secret_arn if args.datadog_enabled else None
                ),
            ),
            tags=args.tags,
            parent=self,
        )
        self.worker_function_name = worker.function.name
        self.worker_function_arn = worker.function.arn
        self.worker_log_group_name = worker.log_group.name
        self.worker_role_arn = worker.role.arn


def _gateway_inputs(
    args: ComputeArgs,
    environment: dict[str, pulumi.Input[str]],
    *,
    repository: aws.ecr.Repository,
    log_group: aws.cloudwatch.LogGroup,
    region: pulumi.Input[str],
    account_id: pulumi.Input[str],
) -> gateway.GatewayInputs:
    data = args.data
    return gateway.GatewayInputs(
        config=args.config,
        environment=environment,
        repository=repository,
        log_group=log_group,
        region=region,
        account_id=account_id,
        port=GATEWAY_CONTAINER_PORT,
        kms_key_arn=data.platform_key_arn,
        queue_arn=data.queue_arn,
        topic_arn=data.events_topic_arn,
        # The gateway never calls an LLM provider: no provider secrets here.
        secret_arns=[
            data.db_master_secret_arn,
            data.cache_auth_secret_arn,
            data.jwt_signing_secret_arn,
        ],
        prometheus_remote_write_url=args.prometheus_remote_write_url,
        prometheus_workspace_arn=args.prometheus_workspace_arn,
        datadog_api_key_secret_arn=(
            args.datadog_api_key_secret_arn if args.datadog_enabled else None
        ),
    )


def _check_args(args: ComputeArgs) -> None:
    if args.datadog_enabled and args.datadog_api_key_secret_arn is None:
        raise ValueError(
            "ComputeArgs: datadog_enabled needs datadog_api_key_secret_arn (the Secrets "
            "Manager secret holding the Datadog API key); pass it or turn Datadog off"
        )
    if (args.prometheus_remote_write_url is None) != (args.prometheus_workspace_arn is None):
        raise ValueError(
            "ComputeArgs: prometheus_remote_write_url and prometheus_workspace_arn go "
            "together (the collector writes to that workspace); pass both or neither"
        )
