"""The whole program (__main__.py) for each stack file, through the offline plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agatha.plan.graph import ResourceGraph

LAYERS = ("network", "data", "compute", "edge", "monitoring", "alerting")


def _graph(stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph) -> ResourceGraph:
    return dev_graph if stack == "dev" else prod_graph


def _policy_documents(graph: ResourceGraph) -> list[tuple[str, dict[str, Any]]]:
    keys = ("policy", "assumeRolePolicy")
    documents = []
    for resource in graph:
        for key in keys:
            value = resource.inputs.get(key)
            if isinstance(value, str) and value.lstrip().startswith("{"):
                document = json.loads(value)
                if "Statement" in document:  # IAM-style, not lifecycle or redrive JSON
                    documents.append((f"{resource.name}.{key}", document))
    return documents


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_layer_is_built_and_every_resource_has_a_layer(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    graph = _graph(stack, dev_graph, prod_graph)
    components = {r.type.split(":")[1] for r in graph if r.type.startswith("agatha:")}
    assert set(LAYERS) <= components
    orphans = [r.name for r in graph if r.custom and graph.layer_of(r) == "other"]
    assert not orphans, f"resources outside any layer component: {orphans}"


def test_prod_spans_three_azs_with_a_nat_per_az(prod_graph: ResourceGraph) -> None:
    subnets = prod_graph.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 9
    assert len({s.inputs["availabilityZone"] for s in subnets}) == 3
    assert len(prod_graph.of_type("aws:ec2/natGateway:NatGateway")) == 3


def test_dev_has_one_nat(dev_graph: ResourceGraph) -> None:
    assert len(dev_graph.of_type("aws:ec2/natGateway:NatGateway")) == 1


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_database_route_table_reaches_the_internet(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    graph = _graph(stack, dev_graph, prod_graph)
    gateways = {
        r.id
        for t in ("aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway")
        for r in graph.of_type(t)
    }
    database_tables = [
        r for r in graph.of_type("aws:ec2/routeTable:RouteTable") if "database" in r.name
    ]
    assert database_tables
    table_ids = {t.id for t in database_tables}
    for route in graph.of_type("aws:ec2/route:Route"):
        if route.inputs.get("routeTableId") in table_ids:
            assert route.inputs.get("gatewayId") not in gateways
            assert route.inputs.get("natGatewayId") not in gateways
    for table in database_tables:
        for inline in table.inputs.get("routes") or []:
            assert not (set(inline.values()) & gateways)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_admitting_security_group_rule_is_described(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    graph = _graph(stack, dev_graph, prod_graph)
    rules = graph.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    rules += graph.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert rules
    assert [r.name for r in rules if not r.inputs.get("description")] == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_policy_documents_are_valid_json_without_wildcard_actions(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    documents = _policy_documents(_graph(stack, dev_graph, prod_graph))
    assert len(documents) > 10
    for where, document in documents:
        for statement in document["Statement"]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if statement.get("Effect") == "Allow":
                assert "*" not in actions, f"{where} allows every action"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_taggable_aws_resources_carry_the_required_tags(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    graph = _graph(stack, dev_graph, prod_graph)
    required = {"environment", "service", "owner", "cost-center"}
    # Cloudflare and Datadog tag differently (lists of "key:value"); AWS resources here.
    tagged = [r for r in graph if r.type.startswith("aws:") and "tags" in r.inputs]
    assert tagged
    missing = [r.name for r in tagged if not required <= set(r.inputs["tags"] or {})]
    assert missing == []


def test_prod_protects_stateful_resources_and_dev_does_not(
    dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    # Losing these loses customer data: the database, its keys and the prompt archive.
    stateful = ("aws:rds/cluster:Cluster", "aws:kms/key:Key", "aws:s3/bucket:Bucket")

    def data_layer(graph: ResourceGraph, type_token: str) -> list[Any]:
        found = [r for r in graph.of_type(type_token) if graph.layer_of(r) == "data"]
        return [r for r in found if "bucket" not in type_token or "archive" in r.name]

    for type_token in stateful:
        assert data_layer(prod_graph, type_token), type_token
        assert all(r.protect for r in data_layer(prod_graph, type_token)), type_token
        assert not any(r.protect for r in data_layer(dev_graph, type_token)), type_token
