"""Network layer: VPC over the stack's AZs with public, private and database tiers.

Public subnets hold the ALB and NAT gateways; private subnets hold the gateway tasks, the
worker's ENIs and the interface endpoints; database subnets hold Aurora and Redis and have
no route to the internet at all (not even through NAT). Security groups, flow logs,
endpoints and operator access live in the ``network_*`` modules next to this one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cidr import subnet_layout
from components.config.network import NetworkConfig
from components.network_access import create_client_vpn, create_session_manager_access
from components.network_endpoints import create_interface_endpoints, create_s3_gateway_endpoint
from components.network_logging import create_flow_logs, create_logs_key
from components.network_scope import AwsContext, NetworkScope
from components.network_security import (
    GATEWAY_CONTAINER_PORT,
    POSTGRES_PORT,
    REDIS_PORT,
    create_database_nacl,
    create_security_groups,
)

__all__ = [
    "GATEWAY_CONTAINER_PORT",
    "POSTGRES_PORT",
    "REDIS_PORT",
    "Network",
    "NetworkArgs",
    "first_zones",
    "nat_gateway_count",
]

TIERS: tuple[str, ...] = ("public", "private", "database")


@dataclass
class NetworkArgs:
    """Inputs of the network layer."""

    config: NetworkConfig
    tags: dict[str, str]
    alb_ingress_ipv4_cidrs: pulumi.Input[Sequence[str]]
    alb_ingress_ipv6_cidrs: pulumi.Input[Sequence[str]]


def nat_gateway_count(strategy: str, *, az_count: int) -> int:
    """How many NAT gateways a strategy needs."""
    return {"one-per-az": az_count, "single": 1, "none": 0}[strategy]


def first_zones(names: Sequence[str], count: int) -> list[str]:
    """The first ``count`` AZ names of a lookup, or an error saying how to fix the config."""
    if len(names) < count:
        raise ValueError(
            f"the region offers {len(names)} available AZs ({', '.join(names)}) but azCount "
            f"is {count}. Fix: lower azCount or list availabilityZones in the stack file"
        )
    return list(names[:count])


def _nth_zone(index: int) -> Callable[[list[str]], str]:
    return lambda names: names[index]


class Network(pulumi.ComponentResource):
    """VPC, subnets, routing, NAT, security groups, flow logs, endpoints, operator access."""

    vpc_id: pulumi.Output[str]
    vpc_cidr_block: pulumi.Output[str]
    availability_zones: pulumi.Input[Sequence[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    database_subnet_ids: list[pulumi.Output[str]]
    nat_gateway_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:network:Network", name, None, opts)
        config = args.config
        self._scope = NetworkScope(
            name=name, tags=dict(args.tags), parent=self, aws=self._lookup_context()
        )
        zones = self._create_vpc(config)
        self._create_subnets(config, zones)
        self._create_routing(config)
        self._create_subnet_groups(config)
        self._create_security(args)
        self._create_observability(config)
        self._create_endpoints(config)
        self._create_operator_access(config)
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidrBlock": self.vpc_cidr_block,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "databaseSubnetIds": self.database_subnet_ids,
                "dbSubnetGroupName": self.db_subnet_group_name,
                "cacheSubnetGroupName": self.cache_subnet_group_name,
                "natGatewayIds": self.nat_gateway_ids,
                "flowLogGroupName": self.flow_log_group_name,
            }
        )

    def published(self) -> dict[str, pulumi.Input[str]]:
        """The network keys of components/published_outputs.py."""
        return {"vpc-id": self.vpc_id}

    def _lookup_context(self) -> AwsContext:
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke)
        return AwsContext(
            account_id=aws.get_caller_identity_output(opts=invoke).account_id,
            region=aws.get_region_output(opts=invoke).region,
            partition=partition.partition,
            dns_suffix=partition.dns_suffix,
        )

    def _zone_names(self, config: NetworkConfig) -> list[pulumi.Input[str]]:
        count = config.effective_az_count
        if config.availability_zones:
            self.availability_zones = list(config.availability_zones)
            return list(config.availability_zones)
        # Opt-in zones (Local and Wavelength Zones) lack most services: regular AZs only.
        lookup = aws.get_availability_zones_output(
            state="available",
            filters=[
                aws.GetAvailabilityZonesFilterArgs(
                    name="opt-in-status", values=["opt-in-not-required"]
                )
            ],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        picked = lookup.names.apply(lambda names: first_zones(names, count))
        self.availability_zones = picked
        return [picked.apply(_nth_zone(index)) for index in range(count)]

    def _create_vpc(self, config: NetworkConfig) -> list[pulumi.Input[str]]:
        scope = self._scope
        self.vpc = aws.ec2.Vpc(
            scope.child("vpc"),
            cidr_block=config.vpc_cidr,
            # Both DNS flags are required for private DNS on interface endpoints.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=scope.tags_for("vpc"),
            opts=scope.opts(),
        )
        self.vpc_id = self.vpc.id
        self.vpc_cidr_block = self.vpc.cidr_block
        # Managing the default group with no rules strips AWS's allow-all defaults, so
        # anything launched without an explicit group can talk to nothing.
        aws.ec2.DefaultSecurityGroup(
            scope.child("default-sg"),
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=scope.tags_for("default-sg"),
            opts=scope.opts(),
        )
        self.internet_gateway = aws.ec2.InternetGateway(
            scope.child("igw"), vpc_id=self.vpc.id, tags=scope.tags_for("igw"), opts=scope.opts()
        )
        return self._zone_names(config)

    def _create_subnets(self, config: NetworkConfig, zones: list[pulumi.Input[str]]) -> None:
        scope = self._scope
        layout = subnet_layout(config.vpc_cidr, az_count=len(zones))
        subnets: dict[str, list[aws.ec2.Subnet]] = {}
        for tier in TIERS:
            subnets[tier] = [
                aws.ec2.Subnet(
                    scope.child(f"{tier}-{index}"),
                    vpc_id=self.vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone,
                    # Nothing we launch needs an automatic public IP, not even in the public
                    # tier: NAT gateways use Elastic IPs and the ALB manages its own.
                    map_public_ip_on_launch=False,
                    tags=scope.tags_for(f"{tier}-{index}", tier=tier),
                    opts=scope.opts(),
                )
                for index, (cidr, zone) in enumerate(
                    zip(getattr(layout, tier), zones, strict=True), start=1
                )
            ]
        self._subnets = subnets
        self.public_subnet_ids = [s.id for s in subnets["public"]]
        self.private_subnet_ids = [s.id for s in subnets["private"]]
        self.database_subnet_ids = [s.id for s in subnets["database"]]

    def _create_nat_gateways(self, config: NetworkConfig) -> list[aws.ec2.NatGateway]:
        scope = self._scope
        count = nat_gateway_count(config.nat_strategy, az_count=len(self._subnets["public"]))
        gateways = []
        for index, subnet in enumerate(self._subnets["public"][:count], start=1):
            after_igw = scope.opts(depends_on=[self.internet_gateway])
            eip = aws.ec2.Eip(
                scope.child(f"nat-{index}-eip"),
                domain="vpc",
                tags=scope.tags_for(f"nat-{index}-eip"),
                opts=after_igw,
            )
            gateways.append(
                aws.ec2.NatGateway(
                    scope.child(f"nat-{index}"),
                    allocation_id=eip.allocation_id,
                    subnet_id=subnet.id,
                    tags=scope.tags_for(f"nat-{index}"),
                    opts=after_igw,
                )
            )
        self.nat_gateway_ids = [gateway.id for gateway in gateways]
        return gateways

    def _route_table(self, suffix: str, subnets: Sequence[aws.ec2.Subnet]) -> aws.ec2.RouteTable:
        scope = self._scope
        table = aws.ec2.RouteTable(
            scope.child(f"{suffix}-rt"),
            vpc_id=self.vpc.id,
            tags=scope.tags_for(f"{suffix}-rt"),
            opts=scope.opts(),
        )
        for subnet_index, subnet in enumerate(subnets, start=1):
            aws.ec2.RouteTableAssociation(
                scope.child(f"{suffix}-rta-{subnet_index}"),
                route_table_id=table.id,
                subnet_id=subnet.id,
                opts=scope.opts(),
            )
        return table

    def _create_routing(self, config: NetworkConfig) -> None:
        scope = self._scope
        nat_gateways = self._create_nat_gateways(config)
        public = self._route_table("public", self._subnets["public"])
        aws.ec2.Route(
            scope.child("public-internet"),
            route_table_id=public.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
            opts=scope.opts(),
        )
        # One private table per AZ whatever the strategy, so moving from single to
        # one-per-az NAT only repoints routes and never re-associates subnets.
        self._private_route_tables = []
        for index, subnet in enumerate(self._subnets["private"], start=1):
            table = self._route_table(f"private-{index}", [subnet])
            self._private_route_tables.append(table)
            if nat_gateways:
                nat = nat_gateways[min(index, len(nat_gateways)) - 1]
                aws.ec2.Route(
                    scope.child(f"private-{index}-nat"),
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat.id,
                    opts=scope.opts(),
                )
        # Isolated on purpose: the database tier gets no route to the IGW or a NAT; only
        # the local route and the S3 gateway endpoint (added with the endpoints).
        self._database_route_table = self._route_table("database", self._subnets["database"])

    def _create_subnet_groups(self, config: NetworkConfig) -> None:
        scope = self._scope
        db_group = aws.rds.SubnetGroup(
            scope.child("db-subnets"),
            description=f"{scope.name}: Aurora in the isolated database subnets",
            subnet_ids=self.database_subnet_ids,
            tags=scope.tags_for("db-subnets"),
            opts=scope.opts(),
        )
        cache_group = aws.elasticache.SubnetGroup(
            scope.child("cache-subnets"),
            description=f"{scope.name}: Redis in the isolated database subnets",
            subnet_ids=self.database_subnet_ids,
            tags=scope.tags_for("cache-subnets"),
            opts=scope.opts(),
        )
        self.db_subnet_group_name = db_group.name
        self.cache_subnet_group_name = cache_group.name
        create_database_nacl(
            scope,
            vpc_id=self.vpc.id,
            vpc_cidr=config.vpc_cidr,
            subnet_ids=self.database_subnet_ids,
        )

    def _create_security(self, args: NetworkArgs) -> None:
        groups = create_security_groups(
            self._scope,
            vpc_id=self.vpc.id,
            vpc_cidr=args.config.vpc_cidr,
            alb_ipv4_cidrs=args.alb_ingress_ipv4_cidrs,
            alb_ipv6_cidrs=args.alb_ingress_ipv6_cidrs,
        )
        self._groups = groups
        self.alb_security_group_id = groups.alb.id
        self.gateway_security_group_id = groups.gateway.id
        self.worker_security_group_id = groups.worker.id
        self.database_security_group_id = groups.database.id
        self.cache_security_group_id = groups.cache.id
        self.endpoints_security_group_id = groups.endpoints.id

    def _create_observability(self, config: NetworkConfig) -> None:
        self._logs_key = create_logs_key(self._scope)
        self.logs_key_arn = self._logs_key.arn
        flow_logs = create_flow_logs(
            self._scope,
            vpc_id=self.vpc.id,
            key=self._logs_key,
            retention_days=config.flow_log_retention_days,
        )
        self.flow_log_group_name = flow_logs.name

    def _create_endpoints(self, config: NetworkConfig) -> None:
        tables = [*self._private_route_tables, self._database_route_table]
        self.s3_endpoint = create_s3_gateway_endpoint(
            self._scope, vpc_id=self.vpc.id, route_table_ids=[t.id for t in tables]
        )
        self.interface_endpoints = (
            create_interface_endpoints(
                self._scope,
                vpc_id=self.vpc.id,
                subnet_ids=self.private_subnet_ids,
                security_group_id=self.endpoints_security_group_id,
            )
            if config.interface_endpoints
            else {}
        )

    def _create_operator_access(self, config: NetworkConfig) -> None:
        access = create_session_manager_access(self._scope)
        self.session_manager_policy_json = access.document
        self.session_manager_policy_arn = access.policy.arn
        self.client_vpn_endpoint_id: pulumi.Output[str] | None = None
        if config.client_vpn_enabled:
            endpoint = create_client_vpn(
                self._scope,
                config=config,
                vpc_id=self.vpc.id,
                private_subnet_ids=self.private_subnet_ids,
                key=self._logs_key,
                groups=self._groups,
            )
            self.client_vpn_endpoint_id = endpoint.id
