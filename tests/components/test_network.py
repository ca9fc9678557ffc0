"""The network component under the mock runtime: topology, logs, endpoints, operator access."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pulumi
import pytest

from agatha.plan.graph import ResourceGraph
from components.network import Network, NetworkArgs, first_zones, nat_gateway_count
from components.network_endpoints import INTERFACE_ENDPOINT_SERVICES
from tests.components.network_plan import (
    CLIENT_VPN,
    ENDPOINT,
    NAT,
    ROUTE,
    SUBNET,
    TAGS,
    UNTAGGABLE,
    VPN_CONFIG,
    mock_id,
    plan,
    rules_of,
)


@pytest.fixture(scope="module")
def prod_like() -> ResourceGraph:
    return plan(natStrategy="one-per-az", interfaceEndpoints=True)


@pytest.fixture(scope="module")
def dev_like() -> ResourceGraph:
    return plan(natStrategy="single")


def test_one_per_az_has_nine_subnets_over_three_azs_and_three_nats(
    prod_like: ResourceGraph,
) -> None:
    subnets = prod_like.of_type(SUBNET)
    assert len(subnets) == 9
    assert len({s.inputs["availabilityZone"] for s in subnets}) == 3
    for tier in ("public", "private", "database"):
        zones = {s.inputs["availabilityZone"] for s in subnets if s.inputs["tags"]["tier"] == tier}
        assert len(zones) == 3, tier
    assert len(prod_like.of_type(NAT)) == 3


@pytest.mark.parametrize(("strategy", "count"), [("single", 1), ("none", 0)])
def test_nat_strategy_decides_the_nat_count(strategy: str, count: int) -> None:
    graph = plan(natStrategy=strategy)
    assert len(graph.of_type(NAT)) == count
    assert len(graph.of_type("aws:ec2/eip:Eip")) == count
    private_default_routes = [r for r in graph.of_type(ROUTE) if "natGatewayId" in r.inputs]
    assert len(private_default_routes) == (3 if count else 0)


def test_each_private_subnet_routes_through_the_nat_of_its_own_az(
    prod_like: ResourceGraph,
) -> None:
    for index in (1, 2, 3):
        route = prod_like.named(f"t-private-{index}-nat")
        nat = prod_like.named(f"t-nat-{index}")
        assert route.inputs["natGatewayId"] == mock_id(nat)
        assert route.inputs["routeTableId"] == mock_id(prod_like.named(f"t-private-{index}-rt"))
        public = prod_like.named(f"t-public-{index}")
        assert nat.inputs["subnetId"] == mock_id(public)
        private = prod_like.named(f"t-private-{index}")
        assert public.inputs["availabilityZone"] == private.inputs["availabilityZone"]


def test_single_nat_serves_every_private_route_table(dev_like: ResourceGraph) -> None:
    nat_id = mock_id(dev_like.named("t-nat-1"))
    routes = [r for r in dev_like.of_type(ROUTE) if "natGatewayId" in r.inputs]
    assert {r.inputs["natGatewayId"] for r in routes} == {nat_id}


@pytest.mark.parametrize("strategy", ["one-per-az", "single", "none"])
def test_database_route_table_has_no_route_to_the_igw_or_a_nat(strategy: str) -> None:
    graph = plan(natStrategy=strategy)
    database_table = mock_id(graph.named("t-database-rt"))
    igw = mock_id(graph.named("t-igw"))
    assert not [r for r in graph.of_type(ROUTE) if r.inputs["routeTableId"] == database_table]
    associations = graph.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    database_subnets = {mock_id(graph.named(f"t-database-{i}")) for i in (1, 2, 3)}
    for association in associations:
        if association.inputs["subnetId"] in database_subnets:
            assert association.inputs["routeTableId"] == database_table
    internet_routes = [r for r in graph.of_type(ROUTE) if r.inputs.get("gatewayId") == igw]
    assert [r.inputs["routeTableId"] for r in internet_routes] == [
        mock_id(graph.named("t-public-rt"))
    ]


def test_no_subnet_assigns_public_ips_outside_the_public_tier(prod_like: ResourceGraph) -> None:
    for subnet in prod_like.of_type(SUBNET):
        if subnet.inputs["tags"]["tier"] != "public":
            assert subnet.inputs["mapPublicIpOnLaunch"] is False, subnet.name


def test_flow_log_captures_all_traffic_into_an_encrypted_group(prod_like: ResourceGraph) -> None:
    flow_log = prod_like.named("t-flow-log")
    group = prod_like.named("t-flow-logs")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["vpcId"] == mock_id(prod_like.named("t-vpc"))
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    key = prod_like.named("t-logs-key")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    assert group.inputs["retentionInDays"] == 30
    assert plan(flowLogRetentionDays=365).named("t-flow-logs").inputs["retentionInDays"] == 365


def test_flow_log_role_writes_only_to_its_log_group(prod_like: ResourceGraph) -> None:
    group_arn = prod_like.named("t-flow-logs").outputs["arn"]
    policy = json.loads(prod_like.named("t-flow-logs-policy").inputs["policy"])
    writes = policy["Statement"][0]
    assert writes["Resource"] == [group_arn, f"{group_arn}:log-stream:*"]
    trust = json.loads(prod_like.named("t-flow-logs-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {
        "aws:SourceAccount": "123456789012"
    }


def _policy_documents(graph: ResourceGraph) -> Iterator[tuple[str, str]]:
    fields = {
        "aws:iam/role:Role": "assumeRolePolicy",
        "aws:iam/rolePolicy:RolePolicy": "policy",
        "aws:iam/policy:Policy": "policy",
        "aws:kms/key:Key": "policy",
    }
    for resource in graph:
        if resource.type in fields:
            yield resource.name, resource.inputs[fields[resource.type]]


def test_every_policy_document_is_valid_json_without_wildcard_actions() -> None:
    graph = plan(natStrategy="one-per-az", **VPN_CONFIG)
    documents = list(_policy_documents(graph))
    assert len(documents) == 4
    for name, document in documents:
        for statement in json.loads(document)["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert "*" not in action, (name, action)


def test_session_manager_policy_is_published_and_scoped_to_the_stacks_tags() -> None:
    captured: list[Network] = []
    graph = plan(captured=captured)
    assert isinstance(captured[0].session_manager_policy_json, pulumi.Output)
    policy = json.loads(graph.named("t-session-manager").inputs["policy"])
    conditions = [s["Condition"]["StringEquals"] for s in policy["Statement"] if "Condition" in s]
    assert {
        "ssm:resourceTag/service": "agatha",
        "ssm:resourceTag/environment": "test",
    } in conditions


def test_s3_gateway_endpoint_serves_private_and_database_route_tables(
    dev_like: ResourceGraph,
) -> None:
    endpoints = dev_like.of_type(ENDPOINT)
    assert [e.name for e in endpoints] == ["t-vpce-s3"]
    s3 = endpoints[0]
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    assert s3.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    tables = [f"t-private-{i}-rt" for i in (1, 2, 3)] + ["t-database-rt"]
    assert s3.inputs["routeTableIds"] == [mock_id(dev_like.named(t)) for t in tables]


def test_interface_endpoints_use_private_dns_in_private_subnets(prod_like: ResourceGraph) -> None:
    interface = [
        e for e in prod_like.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"
    ]
    services = {e.inputs["serviceName"].removeprefix("com.amazonaws.us-east-1.") for e in interface}
    assert services == set(INTERFACE_ENDPOINT_SERVICES)
    private = [mock_id(prod_like.named(f"t-private-{i}")) for i in (1, 2, 3)]
    endpoints_sg = mock_id(prod_like.named("t-endpoints-sg"))
    for endpoint in interface:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert endpoint.inputs["subnetIds"] == private
        assert endpoint.inputs["securityGroupIds"] == [endpoints_sg]


def test_client_vpn_is_absent_by_default(prod_like: ResourceGraph) -> None:
    assert not [r for r in prod_like if r.type.startswith("aws:ec2clientvpn/")]


def test_client_vpn_uses_certificates_split_tunnel_and_logged_connections() -> None:
    graph = plan(**VPN_CONFIG)
    endpoint = graph.named("t-client-vpn")
    assert endpoint.type == CLIENT_VPN
    inputs = endpoint.inputs
    assert inputs["splitTunnel"] is True
    assert inputs["authenticationOptions"] == [
        {
            "type": "certificate-authentication",
            "rootCertificateChainArn": VPN_CONFIG["clientVpnClientRootCertificateArn"],
        }
    ]
    assert inputs["connectionLogOptions"]["enabled"] is True
    vpn_logs = graph.named("t-client-vpn-logs")
    assert inputs["connectionLogOptions"]["cloudwatchLogGroup"] == vpn_logs.inputs["name"]
    assert vpn_logs.inputs["kmsKeyId"]
    associations = graph.of_type("aws:ec2clientvpn/networkAssociation:NetworkAssociation")
    assert {a.inputs["subnetId"] for a in associations} == {
        mock_id(graph.named(f"t-private-{i}")) for i in (1, 2, 3)
    }
    rule = graph.named("t-client-vpn-auth-vpc")
    assert rule.inputs["targetNetworkCidr"] == "10.0.0.0/16"
    vpn_sg = mock_id(graph.named("t-client-vpn-sg"))
    database_ingress = {
        r.inputs.get("referencedSecurityGroupId") for r in rules_of(graph, "t-database-sg")
    }
    assert vpn_sg in database_ingress


def test_subnet_groups_span_the_database_subnets(prod_like: ResourceGraph) -> None:
    database = [mock_id(prod_like.named(f"t-database-{i}")) for i in (1, 2, 3)]
    assert prod_like.named("t-db-subnets").inputs["subnetIds"] == database
    assert prod_like.named("t-cache-subnets").inputs["subnetIds"] == database
    assert prod_like.named("t-cache-subnets").type == "aws:elasticache/subnetGroup:SubnetGroup"


def test_every_child_is_parented_named_and_tagged(prod_like: ResourceGraph) -> None:
    (component,) = prod_like.of_type("agatha:network:Network")
    children = [r for r in prod_like if r is not component]
    for child in children:
        assert child.parent == component.urn, child.name
        assert child.name.startswith("t-"), child.name
        if child.type in UNTAGGABLE:
            continue
        tags = child.inputs.get("tags")
        assert tags is not None, f"{child.type} {child.name} has no tags"
        assert tags | TAGS == tags, child.name
        assert tags["Name"] == child.name


def test_configured_zone_names_are_used_verbatim() -> None:
    zones = ("eu-west-1a", "eu-west-1c")
    graph = plan(availabilityZones=zones, natStrategy="one-per-az")
    subnets = graph.of_type(SUBNET)
    assert len(subnets) == 6
    assert {s.inputs["availabilityZone"] for s in subnets} == set(zones)
    assert len(graph.of_type(NAT)) == 2


def test_component_exposes_the_contract_attributes() -> None:
    captured: list[Network] = []
    plan(captured=captured)
    network = captured[0]
    for attribute in (
        "vpc_id", "vpc_cidr_block", "availability_zones", "public_subnet_ids",
        "private_subnet_ids", "database_subnet_ids", "db_subnet_group_name",
        "cache_subnet_group_name", "alb_security_group_id", "gateway_security_group_id",
        "worker_security_group_id", "database_security_group_id", "cache_security_group_id",
        "endpoints_security_group_id", "nat_gateway_ids", "flow_log_group_name",
        "session_manager_policy_json",
    ):  # fmt: skip
        assert hasattr(network, attribute), attribute
    assert len(network.private_subnet_ids) == 3
    assert set(network.published()) == {"vpc-id"}


@pytest.mark.parametrize(("stack", "nats", "endpoints"), [("dev", 1, 1), ("prod", 3, 8)])
def test_stack_files_build_their_network(stack: str, nats: int, endpoints: int) -> None:
    from agatha.plan.mock_runtime import evaluate_stack
    from components.config import load_stack_config
    from components.edge import origin_ingress_cidrs
    from components.naming import required_tags

    def program() -> None:
        config = load_stack_config()
        ipv4, ipv6 = origin_ingress_cidrs(config.edge)
        tags = required_tags(config.general, stack=stack, layer="network")
        Network(stack, NetworkArgs(config.network, tags, ipv4, ipv6))

    graph = evaluate_stack(stack, program=program)
    assert len(graph.of_type(SUBNET)) == 9
    assert len(graph.of_type(NAT)) == nats
    assert len(graph.of_type(ENDPOINT)) == endpoints
    assert graph.named(f"{stack}-flow-log").inputs["trafficType"] == "ALL"


def test_zone_lookup_with_too_few_zones_says_how_to_fix_it() -> None:
    assert first_zones(["a", "b", "c", "d"], 3) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="lower azCount or list availabilityZones"):
        first_zones(["a", "b"], 3)


def test_nat_gateway_count_per_strategy() -> None:
    assert nat_gateway_count("one-per-az", az_count=3) == 3
    assert nat_gateway_count("single", az_count=3) == 1
    assert nat_gateway_count("none", az_count=3) == 0
