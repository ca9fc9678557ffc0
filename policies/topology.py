"""Joining resources that pulumi-aws v7 splits apart, for stack-level rules.

Resources are joined through the engine's dependency edges (``property_dependencies``
when present, else ``dependencies``), never through physical ids: ids are unknown during
preview, dependencies are not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from policies.props import WORLD_CIDRS, as_list, get, is_unknown, num, strings

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"


class StackIndex:
    """The resources of one stack, indexed by URN and type."""

    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}

    def of_type(self, *types: str) -> list[PolicyResource]:
        """Resources whose type is one of ``types``, in stack order."""
        return [r for r in self.resources if r.resource_type in types]

    def linked(self, resource: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """Resources of ``types`` that ``resource``'s property ``prop`` was computed from."""
        deps = resource.property_dependencies.get(prop)
        if deps is None:
            deps = resource.dependencies
        return [d for d in deps if d.resource_type in types]

    def referrers(self, target: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """Resources of ``types`` whose ``prop`` points at ``target``.

        When none does but an unlinked candidate's ``prop`` is unknown (preview), it may
        belong to ``target``: raise ``UnknownValueError`` so the caller reports undecidable
        instead of a missing control.
        """
        found = [
            r for r in self.of_type(*types) if target in self.linked(r, prop, target.resource_type)
        ]
        if found:
            return found
        for candidate in self.of_type(*types):
            if not self.linked(candidate, prop, target.resource_type) and is_unknown(
                candidate.props, prop
            ):
                raise UnknownValueError(UNKNOWN_STRING_VALUE, [candidate.name, prop])
        return []


@dataclass(frozen=True)
class IngressRule:
    """One ingress permission, whichever resource shape declared it."""

    urn: str
    group: PolicyResource | None  # the security group the rule belongs to
    protocol: str
    from_port: float
    to_port: float
    cidrs: tuple[str, ...]
    source_groups: int
    description: str

    @property
    def world_open(self) -> bool:
        return bool(WORLD_CIDRS.intersection(self.cidrs))

    def covers(self, port: int) -> bool:
        if self.protocol in ("-1", "all"):
            return True
        return self.from_port <= port <= self.to_port


def _ports(raw_from: object, raw_to: object, protocol: str) -> tuple[float, float]:
    if protocol in ("-1", "all"):
        return 0.0, 65535.0
    low, high = num(raw_from), num(raw_to)
    return (low if low is not None else 0.0, high if high is not None else 65535.0)


def ingress_rules(index: StackIndex) -> list[IngressRule]:
    """Every ingress permission in the stack: inline, legacy rule and VPC rule resources."""
    found: list[IngressRule] = []
    for group in index.of_type(SG):
        for entry in as_list(get(group.props, "ingress")):
            protocol = str(get(entry, "protocol", default="-1"))
            low, high = _ports(get(entry, "fromPort"), get(entry, "toPort"), protocol)
            cidrs = tuple(strings(get(entry, "cidrBlocks")) + strings(get(entry, "ipv6CidrBlocks")))
            if as_list(get(entry, "prefixListIds")):
                cidrs += _prefix_list_cidrs(index, group, "ingress")
            sources = len(as_list(get(entry, "securityGroups"))) + int(truthy_self(entry))
            found.append(
                IngressRule(
                    group.urn,
                    group,
                    protocol,
                    low,
                    high,
                    cidrs,
                    sources,
                    str(get(entry, "description", default="")),
                )
            )
    for rule_ in index.of_type(SG_RULE):
        if get(rule_.props, "type") != "ingress":
            continue
        found.append(
            _from_props(index, rule_, ("cidrBlocks", "ipv6CidrBlocks"), "sourceSecurityGroupId")
        )
    for rule_ in index.of_type(SG_INGRESS):
        found.append(
            _from_props(index, rule_, ("cidrIpv4", "cidrIpv6"), "referencedSecurityGroupId")
        )
    return found


def truthy_self(entry: object) -> bool:
    return get(entry, "self") is True


def _from_props(
    index: StackIndex, resource: PolicyResource, cidr_keys: tuple[str, str], source_key: str
) -> IngressRule:
    props = resource.props
    protocol = str(get(props, "protocol", default=get(props, "ipProtocol", default="-1")))
    low, high = _ports(get(props, "fromPort"), get(props, "toPort"), protocol)
    cidrs = tuple(strings(get(props, cidr_keys[0])) + strings(get(props, cidr_keys[1])))
    if get(props, "prefixListId") is not None or as_list(get(props, "prefixListIds")):
        key = "prefixListId" if "prefixListId" in props else "prefixListIds"
        cidrs += _prefix_list_cidrs(index, resource, key)
    has_source = get(props, source_key) is not None or truthy_self(props)
    groups = index.linked(resource, "securityGroupId", SG)
    return IngressRule(
        resource.urn,
        groups[0] if len(groups) == 1 else None,
        protocol,
        low,
        high,
        cidrs,
        int(has_source),
        str(get(props, "description", default="")),
    )


def _prefix_list_cidrs(index: StackIndex, resource: PolicyResource, prop: str) -> tuple[str, ...]:
    """The entries of the managed prefix lists a rule references (they are its sources)."""
    return tuple(
        str(get(entry, "cidr"))
        for prefix_list in index.linked(resource, prop, PREFIX_LIST)
        for entry in as_list(get(prefix_list.props, "entries"))
    )


def public_subnets(index: StackIndex) -> set[str]:
    """URNs of subnets whose route table sends traffic to an internet gateway."""
    igw_tables: set[str] = set()
    for table in index.of_type(ROUTE_TABLE):
        inline = as_list(get(table.props, "routes"))
        if any(get(r, "gatewayId") is not None and _is_igw_route(index, table) for r in inline):
            igw_tables.add(table.urn)
    for route in index.of_type(ROUTE):
        if index.linked(route, "gatewayId", INTERNET_GATEWAY):
            igw_tables.update(t.urn for t in index.linked(route, "routeTableId", ROUTE_TABLE))
    public: set[str] = set()
    for association in index.of_type(ROUTE_TABLE_ASSOCIATION):
        tables = {t.urn for t in index.linked(association, "routeTableId", ROUTE_TABLE)}
        if tables & igw_tables:
            public.update(s.urn for s in index.linked(association, "subnetId", SUBNET))
    return public


def _is_igw_route(index: StackIndex, table: PolicyResource) -> bool:
    return bool(index.linked(table, "routes", INTERNET_GATEWAY))
