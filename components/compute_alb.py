"""The gateway's internet-facing ALB: HTTPS only (HTTP redirects), hardened, logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.compute_containers import HEALTH_PATH
from components.config.compute import ComputeConfig
from components.naming import slug

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HSTS = "max-age=31536000; includeSubDomains"
ALB_LOG_PREFIX = "alb"


@dataclass(frozen=True)
class LoadBalancing:
    """The ALB resources the service and the outputs need."""

    alb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    https_listener: aws.lb.Listener
    http_listener: aws.lb.Listener


def create_load_balancing(
    name: str,
    *,
    config: ComputeConfig,
    network: Any,
    logs_bucket_name: pulumi.Input[str],
    port: int,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> LoadBalancing:
    """ALB in the public subnets, the gateway target group and both listeners."""
    alb = aws.lb.LoadBalancer(
        f"{name}-alb",
        name=slug(f"{name}-alb", max_length=32),
        load_balancer_type="application",
        internal=False,
        subnets=network.public_subnet_ids,
        security_groups=[network.alb_security_group_id],
        drop_invalid_header_fields=True,
        desync_mitigation_mode="strictest",
        enable_deletion_protection=config.alb_deletion_protection,
        access_logs=aws.lb.LoadBalancerAccessLogsArgs(
            bucket=logs_bucket_name, prefix=ALB_LOG_PREFIX, enabled=True
        ),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    target_group = _create_target_group(
        name, vpc_id=network.vpc_id, port=port, tags=tags, parent=parent
    )
    https, http = _create_listeners(
        name, alb=alb, target_group=target_group, certificate_arn=config.certificate_arn, tags=tags
    )
    return LoadBalancing(
        alb=alb, target_group=target_group, https_listener=https, http_listener=http
    )


def _create_listeners(
    name: str,
    *,
    alb: aws.lb.LoadBalancer,
    target_group: aws.lb.TargetGroup,
    certificate_arn: str,
    tags: dict[str, str],
) -> tuple[aws.lb.Listener, aws.lb.Listener]:
    # HTTP exists only to send clients to HTTPS (NET-09); it never forwards.
    https = aws.lb.Listener(
        f"{name}-alb-https",
        load_balancer_arn=alb.arn,
        port=443,
        protocol="HTTPS",
        ssl_policy=TLS_POLICY,
        certificate_arn=certificate_arn,
        routing_http_response_strict_transport_security_header_value=HSTS,
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=alb),
    )
    http = aws.lb.Listener(
        f"{name}-alb-http",
        load_balancer_arn=alb.arn,
        port=80,
        protocol="HTTP",
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    port="443", protocol="HTTPS", status_code="HTTP_301"
                ),
            )
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=alb),
    )
    return https, http


def _create_target_group(
    name: str,
    *,
    vpc_id: pulumi.Input[str],
    port: int,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.lb.TargetGroup:
    # No fixed name: Pulumi's auto-name lets a replacement be created before the old one goes.
    return aws.lb.TargetGroup(
        f"{name}-gateway-tg",
        target_type="ip",
        port=port,
        protocol="HTTP",
        vpc_id=vpc_id,
        # Requests are short; 30 s drains them without slowing every deployment by 5 min.
        deregistration_delay=30,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            enabled=True,
            path=HEALTH_PATH,
            port="traffic-port",
            protocol="HTTP",
            matcher="200",
            interval=15,
            timeout=5,
            healthy_threshold=2,
            unhealthy_threshold=3,
        ),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
