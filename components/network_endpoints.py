"""VPC endpoints: S3 through a gateway endpoint always, AWS APIs through interface endpoints.

Interface endpoints keep AWS API traffic (queue, secrets, image pulls, logs, keys, STS)
off the NAT path; they cost per AZ-hour, so stacks switch them on (prod) or off (dev).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components.network_scope import NetworkScope

INTERFACE_ENDPOINT_SERVICES: tuple[str, ...] = (
    "sqs",
    "secretsmanager",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "kms",
    "sts",
)


def _service_name(scope: NetworkScope, service: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("com.amazonaws.", scope.aws.region, ".", service)


def create_s3_gateway_endpoint(
    scope: NetworkScope,
    *,
    vpc_id: pulumi.Input[str],
    route_table_ids: Sequence[pulumi.Input[str]],
) -> aws.ec2.VpcEndpoint:
    """S3 gateway endpoint on the given route tables (free; ECR layers come from S3)."""
    return aws.ec2.VpcEndpoint(
        scope.child("vpce-s3"),
        vpc_id=vpc_id,
        service_name=_service_name(scope, "s3"),
        vpc_endpoint_type="Gateway",
        route_table_ids=list(route_table_ids),
        tags=scope.tags_for("vpce-s3"),
        opts=scope.opts(),
    )


def create_interface_endpoints(
    scope: NetworkScope,
    *,
    vpc_id: pulumi.Input[str],
    subnet_ids: Sequence[pulumi.Input[str]],
    security_group_id: pulumi.Input[str],
) -> dict[str, aws.ec2.VpcEndpoint]:
    """One interface endpoint per service in the private subnets, private DNS on."""
    endpoints: dict[str, aws.ec2.VpcEndpoint] = {}
    for service in INTERFACE_ENDPOINT_SERVICES:
        suffix = f"vpce-{service.replace('.', '-')}"
        endpoints[service] = aws.ec2.VpcEndpoint(
            scope.child(suffix),
            vpc_id=vpc_id,
            service_name=_service_name(scope, service),
            vpc_endpoint_type="Interface",
            # Private DNS makes the SDKs' default hostnames resolve to the endpoint, so
            # no application needs an endpoint URL.
            private_dns_enabled=True,
            subnet_ids=list(subnet_ids),
            security_group_ids=[security_group_id],
            tags=scope.tags_for(suffix),
            opts=scope.opts(),
        )
    return endpoints
