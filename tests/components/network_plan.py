"""Shared plan helpers for the network component tests (not a test module)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agatha.plan import mock_values
from agatha.plan.graph import PlannedResource, ResourceGraph
from agatha.plan.mock_runtime import evaluate_program
from components.config.network import NetworkConfig
from components.network import Network, NetworkArgs

TAGS = {"service": "agatha", "environment": "test", "owner": "platform-team"}
IPV4 = ["173.245.48.0/20", "103.21.244.0/22"]
IPV6 = ["2400:cb00::/32"]
VPN_CONFIG: dict[str, Any] = {
    "clientVpnEnabled": True,
    "clientVpnServerCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/server",
    "clientVpnClientRootCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/root",
}
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NAT = "aws:ec2/natGateway:NatGateway"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
CLIENT_VPN = "aws:ec2clientvpn/endpoint:Endpoint"
# Resources whose AWS API has no tags.
UNTAGGABLE = {
    "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:kms/alias:Alias",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:ec2clientvpn/networkAssociation:NetworkAssociation",
    "aws:ec2clientvpn/authorizationRule:AuthorizationRule",
}


def plan(
    ipv4: Any = None, ipv6: Any = None, captured: list[Network] | None = None, **settings: Any
) -> ResourceGraph:
    """Evaluate one Network named "t" with the given NetworkConfig settings (aliases)."""
    config = NetworkConfig(**settings)

    def program() -> None:
        network = Network(
            "t",
            NetworkArgs(
                config=config,
                tags=TAGS,
                alb_ingress_ipv4_cidrs=IPV4 if ipv4 is None else ipv4,
                alb_ingress_ipv6_cidrs=IPV6 if ipv6 is None else ipv6,
            ),
        )
        if captured is not None:
            captured.append(network)

    return evaluate_program(program)


def mock_id(resource: PlannedResource) -> str:
    """The id the mock runtime gave ``resource`` (what other resources' inputs reference)."""
    resource_id, _ = mock_values.resource_state(
        resource.type, resource.name, resource.inputs, region="us-east-1"
    )
    return resource_id


def rules_of(graph: ResourceGraph, group_name: str) -> Iterator[PlannedResource]:
    group_id = mock_id(graph.named(group_name))
    for rule in (*graph.of_type(INGRESS), *graph.of_type(EGRESS)):
        if rule.inputs["securityGroupId"] == group_id:
            yield rule
