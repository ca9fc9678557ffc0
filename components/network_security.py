"""Security groups of the network layer: the role chain ALB -> gateway -> database/cache.

Security groups are the primary control (stateful, per ENI, referencing each other by id);
the database NACL in this module is a coarse second fence only. Every rule is a separate
``aws.vpc.SecurityGroup{Ingress,Egress}Rule`` with a description, so reviewers and the
policy pack can read each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.cidr import cidr_slug
from components.network_scope import NetworkScope

GATEWAY_CONTAINER_PORT = 8000
POSTGRES_PORT = 5432
REDIS_PORT = 6379
HTTPS_PORT = 443
HTTP_PORT = 80
ANYWHERE_IPV4 = "0.0.0.0/0"

ROLE_DESCRIPTIONS: dict[str, str] = {
    "alb": "Internet-facing ALB: HTTPS (and HTTP redirect) from the edge ranges only",
    "gateway": "Gateway Fargate tasks: traffic from the ALB only",
    "worker": "Queue worker Lambda: no inbound, outbound to data stores and HTTPS",
    "database": "Aurora PostgreSQL: 5432 from the gateway and worker only",
    "cache": "ElastiCache Redis: 6379 from the gateway and worker only",
    "endpoints": "Interface VPC endpoints: HTTPS from inside the VPC",
}


@dataclass(frozen=True)
class SecurityGroups:
    """One security group per role in the request chain."""

    alb: aws.ec2.SecurityGroup
    gateway: aws.ec2.SecurityGroup
    worker: aws.ec2.SecurityGroup
    database: aws.ec2.SecurityGroup
    cache: aws.ec2.SecurityGroup
    endpoints: aws.ec2.SecurityGroup


def create_security_groups(
    scope: NetworkScope,
    *,
    vpc_id: pulumi.Input[str],
    vpc_cidr: str,
    alb_ipv4_cidrs: pulumi.Input[Sequence[str]],
    alb_ipv6_cidrs: pulumi.Input[Sequence[str]],
) -> SecurityGroups:
    """The role security groups and every rule between them."""
    groups = SecurityGroups(
        **{role: _group(scope, role, vpc_id=vpc_id) for role in ROLE_DESCRIPTIONS}
    )
    _create_alb_ingress(scope, groups.alb, ipv4=alb_ipv4_cidrs, ipv6=alb_ipv6_cidrs)
    for target, source, port in (
        ("gateway", "alb", GATEWAY_CONTAINER_PORT),
        ("database", "gateway", POSTGRES_PORT),
        ("database", "worker", POSTGRES_PORT),
        ("cache", "gateway", REDIS_PORT),
        ("cache", "worker", REDIS_PORT),
    ):
        allow_between(
            scope,
            source=(source, getattr(groups, source)),
            target=(target, getattr(groups, target)),
            port=port,
        )
    for role in ("gateway", "worker"):
        egress_rule(
            scope,
            f"{role}-out-{HTTPS_PORT}-internet",
            getattr(groups, role),
            port=HTTPS_PORT,
            cidr_ipv4=ANYWHERE_IPV4,
            description=f"{role}: HTTPS to LLM providers and AWS APIs",
        )
    ingress_rule(
        scope,
        f"endpoints-in-{HTTPS_PORT}-vpc",
        groups.endpoints,
        port=HTTPS_PORT,
        cidr_ipv4=vpc_cidr,
        description="endpoints: HTTPS from inside the VPC to AWS service endpoints",
    )
    return groups


def _group(scope: NetworkScope, role: str, *, vpc_id: pulumi.Input[str]) -> aws.ec2.SecurityGroup:
    # No inline rules: the provider then removes AWS's default allow-all egress, and every
    # rule lives in its own described resource. revoke_rules_on_delete lets groups that
    # reference each other be replaced without a dependency deadlock.
    return aws.ec2.SecurityGroup(
        scope.child(f"{role}-sg"),
        vpc_id=vpc_id,
        description=ROLE_DESCRIPTIONS[role],
        revoke_rules_on_delete=True,
        tags=scope.tags_for(f"{role}-sg", role=role),
        opts=scope.opts(),
    )


def allow_between(
    scope: NetworkScope,
    *,
    source: tuple[str, aws.ec2.SecurityGroup],
    target: tuple[str, aws.ec2.SecurityGroup],
    port: int,
) -> None:
    """Egress on ``source`` and ingress on ``target`` for one TCP port, group to group."""
    (source_role, source_group), (target_role, target_group) = source, target
    ingress_rule(
        scope,
        f"{target_role}-in-{port}-from-{source_role}",
        target_group,
        port=port,
        referenced_security_group_id=source_group.id,
        description=f"{target_role}: TCP {port} from the {source_role} security group",
    )
    egress_rule(
        scope,
        f"{source_role}-out-{port}-to-{target_role}",
        source_group,
        port=port,
        referenced_security_group_id=target_group.id,
        description=f"{source_role}: TCP {port} to the {target_role} security group",
    )


def ingress_rule(
    scope: NetworkScope,
    suffix: str,
    group: aws.ec2.SecurityGroup,
    *,
    port: int,
    description: str,
    cidr_ipv4: pulumi.Input[str] | None = None,
    cidr_ipv6: pulumi.Input[str] | None = None,
    prefix_list_id: pulumi.Input[str] | None = None,
    referenced_security_group_id: pulumi.Input[str] | None = None,
) -> aws.vpc.SecurityGroupIngressRule:
    """One described TCP ingress rule for a single port."""
    return aws.vpc.SecurityGroupIngressRule(
        scope.child(suffix),
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        cidr_ipv4=cidr_ipv4,
        cidr_ipv6=cidr_ipv6,
        prefix_list_id=prefix_list_id,
        referenced_security_group_id=referenced_security_group_id,
        description=description,
        tags=scope.tags_for(suffix),
        opts=scope.opts(),
    )


def egress_rule(
    scope: NetworkScope,
    suffix: str,
    group: aws.ec2.SecurityGroup,
    *,
    port: int,
    description: str,
    cidr_ipv4: pulumi.Input[str] | None = None,
    referenced_security_group_id: pulumi.Input[str] | None = None,
) -> aws.vpc.SecurityGroupEgressRule:
    """One described TCP egress rule for a single port."""
    return aws.vpc.SecurityGroupEgressRule(
        scope.child(suffix),
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        cidr_ipv4=cidr_ipv4,
        referenced_security_group_id=referenced_security_group_id,
        description=description,
        tags=scope.tags_for(suffix),
        opts=scope.opts(),
    )


def _create_alb_ingress(
    scope: NetworkScope,
    alb: aws.ec2.SecurityGroup,
    *,
    ipv4: pulumi.Input[Sequence[str]],
    ipv6: pulumi.Input[Sequence[str]],
) -> None:
    for family, cidrs in (("ipv4", ipv4), ("ipv6", ipv6)):
        if isinstance(cidrs, list | tuple):
            _alb_rules_per_cidr(scope, alb, family=family, cidrs=cidrs)
        else:
            _alb_rules_via_prefix_list(scope, alb, family=family, cidrs=cidrs)


def _alb_purpose(port: int) -> str:
    return "HTTPS" if port == HTTPS_PORT else "HTTP, redirected to HTTPS by the listener"


def _alb_rules_per_cidr(
    scope: NetworkScope, alb: aws.ec2.SecurityGroup, *, family: str, cidrs: Sequence[str]
) -> None:
    # Named by CIDR, not position: a range added upstream creates rules, renames none.
    for port in (HTTPS_PORT, HTTP_PORT):
        for cidr in cidrs:
            ingress_rule(
                scope,
                f"alb-in-{port}-{cidr_slug(cidr)}",
                alb,
                port=port,
                description=f"alb: {_alb_purpose(port)} from origin range {cidr}",
                **({"cidr_ipv4": cidr} if family == "ipv4" else {"cidr_ipv6": cidr}),
            )


def _alb_rules_via_prefix_list(
    scope: NetworkScope,
    alb: aws.ec2.SecurityGroup,
    *,
    family: str,
    cidrs: pulumi.Input[Sequence[str]],
) -> None:
    # The ranges are only known after a lookup: their number cannot decide how many rule
    # resources exist (no resources inside apply), so they go into a managed prefix list
    # that one rule per port references; a changed range then updates the list in place.
    suffix = f"alb-origin-{family}"
    ranges = pulumi.Output.from_input(cidrs)
    prefix_list = aws.ec2.ManagedPrefixList(
        scope.child(suffix),
        address_family="IPv4" if family == "ipv4" else "IPv6",
        max_entries=ranges.apply(lambda values: max(len(values), 1)),
        entries=ranges.apply(
            lambda values: [
                aws.ec2.ManagedPrefixListEntryArgs(cidr=cidr, description="origin range")
                for cidr in values
            ]
        ),
        tags=scope.tags_for(suffix),
        opts=scope.opts(),
    )
    for port in (HTTPS_PORT, HTTP_PORT):
        ingress_rule(
            scope,
            f"alb-in-{port}-origin-{family}",
            alb,
            port=port,
            prefix_list_id=prefix_list.id,
            description=f"alb: {_alb_purpose(port)} from the origin ranges ({family} prefix list)",
        )


def create_database_nacl(
    scope: NetworkScope,
    *,
    vpc_id: pulumi.Input[str],
    vpc_cidr: str,
    subnet_ids: Sequence[pulumi.Input[str]],
) -> aws.ec2.NetworkAcl:
    """A coarse fence around the database tier: VPC traffic, plus HTTPS to S3 and back.

    NACLs are stateless and subnet-wide, so they cannot express "gateway to database only";
    the security groups do that. This NACL only guarantees that nothing outside the VPC
    reaches the database subnets, whatever a security group says. The HTTPS pair exists for
    Aurora's S3 import/export through the S3 gateway endpoint (the only outside destination
    the database route table can reach); its return range skips 3389 so no admin port is
    open to 0.0.0.0/0.
    """
    ingress = [
        aws.ec2.NetworkAclIngressArgs(**_nacl_rule(rule_no, protocol, cidr, ports))
        for rule_no, protocol, cidr, ports in (
            (100, "-1", vpc_cidr, (0, 0)),
            (200, "tcp", ANYWHERE_IPV4, (1024, 3388)),
            (210, "tcp", ANYWHERE_IPV4, (3390, 65535)),
        )
    ]
    egress = [
        aws.ec2.NetworkAclEgressArgs(**_nacl_rule(rule_no, protocol, cidr, ports))
        for rule_no, protocol, cidr, ports in (
            (100, "-1", vpc_cidr, (0, 0)),
            (200, "tcp", ANYWHERE_IPV4, (HTTPS_PORT, HTTPS_PORT)),
        )
    ]
    return aws.ec2.NetworkAcl(
        scope.child("database-nacl"),
        vpc_id=vpc_id,
        subnet_ids=list(subnet_ids),
        ingress=ingress,
        egress=egress,
        tags=scope.tags_for("database-nacl", tier="database"),
        opts=scope.opts(),
    )


def _nacl_rule(rule_no: int, protocol: str, cidr: str, ports: tuple[int, int]) -> dict[str, Any]:
    return {
        "rule_no": rule_no,
        "action": "allow",
        "protocol": protocol,
        "cidr_block": cidr,
        "from_port": ports[0],
        "to_port": ports[1],
    }
