"""Security groups and the database NACL of the network component, under the mock runtime."""

from __future__ import annotations

import pulumi
import pytest

from agatha.plan.graph import ResourceGraph
from tests.components.network_plan import (
    EGRESS,
    INGRESS,
    IPV4,
    IPV6,
    mock_id,
    plan,
    rules_of,
)


@pytest.fixture(scope="module")
def prod_like() -> ResourceGraph:
    return plan(natStrategy="one-per-az", interfaceEndpoints=True)


def test_every_security_group_rule_is_described(prod_like: ResourceGraph) -> None:
    rules = [*prod_like.of_type(INGRESS), *prod_like.of_type(EGRESS)]
    assert len(rules) > 10
    for rule in rules:
        assert len(rule.inputs.get("description", "")) > 10, rule.name


def test_default_security_group_has_no_rules(prod_like: ResourceGraph) -> None:
    default = prod_like.named("t-default-sg")
    assert default.type == "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
    assert not default.inputs.get("ingress")
    assert not default.inputs.get("egress")


def test_alb_admits_only_the_given_cidrs_on_443_and_80(prod_like: ResourceGraph) -> None:
    ingress = [r for r in rules_of(prod_like, "t-alb-sg") if r.type == INGRESS]
    sources = {(r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")) for r in ingress}
    assert sources == set(IPV4 + IPV6)
    assert {r.inputs["fromPort"] for r in ingress} == {443, 80}
    assert len(ingress) == 2 * len(IPV4 + IPV6)


def test_alb_ranges_known_only_after_a_lookup_go_through_prefix_lists() -> None:
    graph = plan(ipv4=pulumi.Output.from_input(IPV4), ipv6=pulumi.Output.from_input(IPV6))
    lists = graph.of_type("aws:ec2/managedPrefixList:ManagedPrefixList")
    assert sorted(p.inputs["addressFamily"] for p in lists) == ["IPv4", "IPv6"]
    entries = {e["cidr"] for p in lists for e in p.inputs["entries"]}
    assert entries == set(IPV4 + IPV6)
    ingress = [r for r in rules_of(graph, "t-alb-sg") if r.type == INGRESS]
    assert sorted(r.inputs["fromPort"] for r in ingress) == [80, 80, 443, 443]
    assert {r.inputs["prefixListId"] for r in ingress} == {mock_id(p) for p in lists}
    assert not [r for r in ingress if "cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs]


def test_security_group_chain_alb_gateway_data_stores(prod_like: ResourceGraph) -> None:
    ids = {role: mock_id(prod_like.named(f"t-{role}-sg")) for role in ("alb", "gateway", "worker")}

    def ingress(group: str) -> set[tuple[str | None, int]]:
        return {
            (r.inputs.get("referencedSecurityGroupId"), r.inputs["fromPort"])
            for r in rules_of(prod_like, f"t-{group}-sg")
            if r.type == INGRESS
        }

    assert ingress("gateway") == {(ids["alb"], 8000)}
    assert ingress("database") == {(ids["gateway"], 5432), (ids["worker"], 5432)}
    assert ingress("cache") == {(ids["gateway"], 6379), (ids["worker"], 6379)}
    assert ingress("worker") == set()


def test_only_app_tasks_egress_to_the_internet_and_only_on_443(prod_like: ResourceGraph) -> None:
    open_egress = [r for r in prod_like.of_type(EGRESS) if r.inputs.get("cidrIpv4") == "0.0.0.0/0"]
    assert {r.name for r in open_egress} == {
        "t-gateway-out-443-internet",
        "t-worker-out-443-internet",
    }
    assert all(r.inputs["fromPort"] == r.inputs["toPort"] == 443 for r in open_egress)


def test_endpoints_group_admits_https_from_the_vpc_cidr_only(prod_like: ResourceGraph) -> None:
    rules = list(rules_of(prod_like, "t-endpoints-sg"))
    assert [(r.inputs["cidrIpv4"], r.inputs["fromPort"]) for r in rules] == [("10.0.0.0/16", 443)]


def test_database_nacl_keeps_admin_ports_closed_to_the_internet(prod_like: ResourceGraph) -> None:
    nacl = prod_like.named("t-database-nacl")
    assert nacl.inputs["subnetIds"] == [
        mock_id(prod_like.named(f"t-database-{i}")) for i in (1, 2, 3)
    ]
    for rule in nacl.inputs["ingress"]:
        if rule["cidrBlock"] == "0.0.0.0/0":
            assert rule["protocol"] == "tcp"
            for port in (22, 3389):
                assert not rule["fromPort"] <= port <= rule["toPort"], rule
