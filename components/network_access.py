"""Operator access to private resources without bastion hosts.

Two paths, both audited: AWS Client VPN (certificate auth, split tunnel, connections
logged), off by default; and an SSM Session Manager policy that operators' roles attach
(sessions and ECS exec only on targets carrying the stack's tags).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cidr import vpc_dns_resolver
from components.config.network import NetworkConfig
from components.network_logging import encrypted_log_group
from components.network_policies import session_manager_policy
from components.network_scope import NetworkScope
from components.network_security import (
    POSTGRES_PORT,
    REDIS_PORT,
    SecurityGroups,
    allow_between,
)

# Tags that identify this stack's session targets (set on every resource by the stack).
SESSION_TARGET_TAG_KEYS: tuple[str, ...] = ("service", "environment")
CLIENT_VPN_SESSION_HOURS = 8


@dataclass(frozen=True)
class SessionManagerAccess:
    """The managed policy operators attach, and its JSON document."""

    policy: aws.iam.Policy
    document: pulumi.Output[str]


def create_session_manager_access(scope: NetworkScope) -> SessionManagerAccess:
    """A customer-managed policy granting Session Manager on this stack's tagged targets."""
    target_tags: Mapping[str, str] = {
        key: scope.tags[key] for key in SESSION_TARGET_TAG_KEYS if key in scope.tags
    }
    context = scope.aws
    document = pulumi.Output.all(context.account_id, context.region, context.partition).apply(
        lambda values: session_manager_policy(
            account_id=values[0], region=values[1], partition=values[2], target_tags=target_tags
        )
    )
    policy = aws.iam.Policy(
        scope.child("session-manager"),
        description=(
            f"{scope.name}: Session Manager and ECS exec on this stack's tagged targets "
            "(operator access instead of bastion hosts)"
        ),
        policy=document,
        tags=scope.tags_for("session-manager"),
        opts=scope.opts(),
    )
    return SessionManagerAccess(policy=policy, document=document)


def create_client_vpn(
    scope: NetworkScope,
    *,
    config: NetworkConfig,
    vpc_id: pulumi.Input[str],
    private_subnet_ids: Sequence[pulumi.Input[str]],
    key: aws.kms.Key,
    groups: SecurityGroups,
) -> aws.ec2clientvpn.Endpoint:
    """Client VPN into the private subnets; operators reach the database and cache only."""
    log_group = encrypted_log_group(
        scope,
        "client-vpn-logs",
        log_name=f"/aws/clientvpn/{scope.name}",
        key=key,
        retention_days=config.flow_log_retention_days,
    )
    vpn_group = _client_vpn_group(scope, vpc_id=vpc_id, groups=groups)
    endpoint = aws.ec2clientvpn.Endpoint(
        scope.child("client-vpn"),
        description=f"{scope.name}: operator access to private resources",
        vpc_id=vpc_id,
        server_certificate_arn=config.client_vpn_server_certificate_arn,
        client_cidr_block=config.client_vpn_cidr,
        authentication_options=[
            aws.ec2clientvpn.EndpointAuthenticationOptionArgs(
                type="certificate-authentication",
                root_certificate_chain_arn=config.client_vpn_client_root_certificate_arn,
            )
        ],
        connection_log_options=aws.ec2clientvpn.EndpointConnectionLogOptionsArgs(
            enabled=True, cloudwatch_log_group=log_group.name
        ),
        # Split tunnel: only VPC-bound traffic enters the tunnel, so operators' other
        # traffic never transits (or is billed through) the VPC.
        split_tunnel=True,
        dns_servers=[vpc_dns_resolver(config.vpc_cidr)],
        security_group_ids=[vpn_group.id],
        session_timeout_hours=CLIENT_VPN_SESSION_HOURS,
        transport_protocol="udp",
        tags=scope.tags_for("client-vpn"),
        opts=scope.opts(),
    )
    _associate(scope, endpoint, private_subnet_ids=private_subnet_ids, vpc_cidr=config.vpc_cidr)
    return endpoint


def _client_vpn_group(
    scope: NetworkScope, *, vpc_id: pulumi.Input[str], groups: SecurityGroups
) -> aws.ec2.SecurityGroup:
    group = aws.ec2.SecurityGroup(
        scope.child("client-vpn-sg"),
        vpc_id=vpc_id,
        description="Client VPN: operators to the database and cache only",
        revoke_rules_on_delete=True,
        tags=scope.tags_for("client-vpn-sg", role="client-vpn"),
        opts=scope.opts(),
    )
    for role, target, port in (
        ("database", groups.database, POSTGRES_PORT),
        ("cache", groups.cache, REDIS_PORT),
    ):
        allow_between(scope, source=("client-vpn", group), target=(role, target), port=port)
    return group


def _associate(
    scope: NetworkScope,
    endpoint: aws.ec2clientvpn.Endpoint,
    *,
    private_subnet_ids: Sequence[pulumi.Input[str]],
    vpc_cidr: str,
) -> None:
    # One association per AZ keeps the VPN up when an AZ fails.
    for index, subnet_id in enumerate(private_subnet_ids, start=1):
        aws.ec2clientvpn.NetworkAssociation(
            scope.child(f"client-vpn-assoc-{index}"),
            client_vpn_endpoint_id=endpoint.id,
            subnet_id=subnet_id,
            opts=scope.opts(),
        )
    aws.ec2clientvpn.AuthorizationRule(
        scope.child("client-vpn-auth-vpc"),
        client_vpn_endpoint_id=endpoint.id,
        target_network_cidr=vpc_cidr,
        authorize_all_groups=True,
        description="Authenticated operators may reach the VPC range",
        opts=scope.opts(),
    )
