"""Network rules: flow logs, security groups, subnets, routes, NACLs and NAT gateways."""

from __future__ import annotations

from pulumi_policy import Severity, StackValidationArgs

from policies.framework import Enforcement, Reporter, rule
from policies.props import WORLD_CIDRS, as_list, get, num, show, strings, truthy
from policies.topology import (
    SG,
    SG_INGRESS,
    SG_RULE,
    SUBNET,
    StackIndex,
    ingress_rules,
    public_subnets,
)

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
NACL = "aws:ec2/networkAcl:NetworkAcl"
NACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
DEFAULT_NACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_INSTANCE = "aws:rds/instance:Instance"
CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
WEB_PORTS = (80, 443)
ADMIN_PORTS = (22, 3389)


@rule(
    id="NET-01",
    name="vpc-flow-logs",
    description="Every VPC has a flow log capturing ALL traffic.",
    rationale=(
        "Flow logs are the only record of who talked to what inside the VPC during an incident."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation="Add an aws.ec2.FlowLog with vpc_id=<vpc>.id and traffic_type='ALL'.",
    references=("CKV2_AWS_11", "AwsSolutions-VPC7", "CIS 3.7"),
    resource_types=(VPC, FLOW_LOG),
    scope="stack",
)
def vpc_flow_logs(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for vpc in index.of_type(VPC):
        with report.deciding(vpc.urn):
            logs = index.referrers(vpc, "vpcId", FLOW_LOG)
            if not any(get(f.props, "trafficType") == "ALL" for f in logs):
                report.violation(f"VPC {vpc.name} has no flow log with traffic_type ALL", vpc.urn)


@rule(
    id="NET-02",
    name="default-security-group-closed",
    description="Each VPC's default security group is adopted and has no rules.",
    rationale=(
        "Anything launched without an explicit group lands in the default one; it must allow "
        "nothing."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Add aws.ec2.DefaultSecurityGroup(vpc_id=<vpc>.id) with no ingress and no egress.",
    references=("CKV2_AWS_12", "CIS 5.4"),
    resource_types=(VPC, DEFAULT_SG),
    scope="stack",
)
def default_security_group_closed(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for group in index.of_type(DEFAULT_SG):
        with report.deciding(group.urn):
            if as_list(get(group.props, "ingress")) or as_list(get(group.props, "egress")):
                report.violation(f"default security group {group.name} has rules", group.urn)
    for vpc in index.of_type(VPC):
        with report.deciding(vpc.urn):
            if index.referrers(vpc, "vpcId", DEFAULT_SG):
                continue
            report.violation(
                f"VPC {vpc.name}'s default security group keeps AWS's allow-all-within-group rules",
                vpc.urn,
            )


@rule(
    id="NET-03",
    name="no-open-ingress",
    description=(
        "No security group allows 0.0.0.0/0 or ::/0 ingress except HTTP(S), and every rule is "
        "described."
    ),
    rationale="World-open admin or data ports are the most common path to a breach.",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Restrict the source to a security group or known CIDRs; keep world ingress to TCP 80/443 "
        "on the ALB; give every rule a description."
    ),
    references=(
        "CKV_AWS_23",
        "CKV_AWS_24",
        "CKV_AWS_25",
        "CKV_AWS_277",
        "AwsSolutions-EC23",
        "AwsSolutions-EC27",
        "CIS 5.2",
        "CIS 5.3",
    ),
    resource_types=(SG, SG_RULE, SG_INGRESS),
    scope="stack",
)
def no_open_ingress(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for ingress in ingress_rules(index):
        web_only = ingress.protocol in ("tcp", "6") and all(
            p in WEB_PORTS for p in range(int(ingress.from_port), int(ingress.to_port) + 1)
        )
        if ingress.world_open and not web_only:
            report.violation(
                f"ingress {ingress.protocol} {show(ingress.from_port)}-{show(ingress.to_port)} "
                "is open to the internet",
                ingress.urn,
            )
        if not ingress.description.strip():
            report.violation("security group rule has no description", ingress.urn)


@rule(
    id="NET-04",
    name="data-tier-ingress-from-app-groups",
    description=(
        "Database and cache security groups admit traffic only from other security groups, never "
        "CIDRs."
    ),
    rationale=(
        "Referencing the app's groups keeps the data tier closed to everything else in the VPC."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Replace CIDR ingress on the database/cache group with rules whose source is the "
    "gateway and worker security groups.",
    references=("AwsSolutions-RDS8",),
    resource_types=(SG, RDS_CLUSTER, RDS_INSTANCE, CACHE_GROUP),
    scope="stack",
)
def data_tier_ingress_from_app_groups(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    data_groups = {
        group.urn
        for store, prop in (
            (RDS_CLUSTER, "vpcSecurityGroupIds"),
            (RDS_INSTANCE, "vpcSecurityGroupIds"),
            (CACHE_GROUP, "securityGroupIds"),
        )
        for resource in index.of_type(store)
        for group in index.linked(resource, prop, SG)
    }
    if not data_groups:
        report.not_applicable("no database or cache security group in the stack")
    for ingress in ingress_rules(index):
        if ingress.group is not None and ingress.group.urn in data_groups and ingress.cidrs:
            report.violation(
                f"data-tier group {ingress.group.name} admits CIDRs {list(ingress.cidrs)}",
                ingress.urn,
            )


@rule(
    id="NET-05",
    name="no-public-ip-outside-public-tier",
    description="Only subnets routed to an internet gateway assign public IPs on launch.",
    rationale=(
        "A public IP on a private-tier host makes it reachable the moment a rule is loosened."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation="Set map_public_ip_on_launch=False on private and database subnets.",
    references=("CKV_AWS_130",),
    resource_types=(SUBNET,),
    scope="stack",
)
def no_public_ip_outside_public_tier(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    public = public_subnets(index)
    for subnet in index.of_type(SUBNET):
        with report.deciding(subnet.urn):
            if truthy(get(subnet.props, "mapPublicIpOnLaunch")) and subnet.urn not in public:
                report.violation(
                    f"subnet {subnet.name} maps public IPs but is not public", subnet.urn
                )


@rule(
    id="NET-06",
    name="database-subnets-isolated",
    description="Subnets in a database subnet group have no route to the internet gateway.",
    rationale=(
        "Isolated database subnets cannot reach or be reached from the internet even if a group is"
        " misconfigured."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Associate database subnets with a route table that has no 0.0.0.0/0 route to the IGW."
    ),
    references=("NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",),
    resource_types=(DB_SUBNET_GROUP, SUBNET),
    scope="stack",
)
def database_subnets_isolated(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    public = public_subnets(index)
    groups = index.of_type(DB_SUBNET_GROUP)
    if not groups:
        report.not_applicable("no database subnet group in the stack")
    for group in groups:
        for subnet in index.linked(group, "subnetIds", SUBNET):
            if subnet.urn in public:
                report.violation(
                    f"subnet {subnet.name} in DB subnet group {group.name} routes to the IGW",
                    group.urn,
                )


def _nacl_entries(index: StackIndex) -> list[tuple[str, object]]:
    entries: list[tuple[str, object]] = []
    for acl in index.of_type(NACL, DEFAULT_NACL):
        entries.extend((acl.urn, e) for e in as_list(get(acl.props, "ingress")))
    for acl_rule in index.of_type(NACL_RULE):
        if not truthy(get(acl_rule.props, "egress")):
            entries.append((acl_rule.urn, acl_rule.props))
    return entries


@rule(
    id="NET-07",
    name="nacl-no-open-admin-ports",
    description="Network ACLs do not allow internet ingress to SSH or RDP.",
    rationale="NACLs are the stateless backstop; they must not re-open what security groups close.",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Remove or narrow NACL allow entries from 0.0.0.0/0 or ::/0 covering ports 22 and 3389."
    ),
    references=("CKV_AWS_229", "CKV_AWS_230", "CKV_AWS_231", "CKV_AWS_232", "CIS 5.1"),
    resource_types=(NACL, NACL_RULE, DEFAULT_NACL),
    scope="stack",
)
def nacl_no_open_admin_ports(args: StackValidationArgs, report: Reporter) -> None:
    for urn, entry in _nacl_entries(StackIndex(args.resources)):
        with report.deciding(urn):
            action = get(entry, "action", default=get(entry, "ruleAction"))
            sources = strings(get(entry, "cidrBlock")) + strings(get(entry, "ipv6CidrBlock"))
            protocol = str(get(entry, "protocol", default="-1"))
            low, high = num(get(entry, "fromPort")) or 0, num(get(entry, "toPort")) or 65535
            opens = protocol in ("-1", "all") or any(low <= p <= high for p in ADMIN_PORTS)
            if action == "allow" and WORLD_CIDRS.intersection(sources) and opens:
                report.violation("NACL allows internet ingress to SSH/RDP", urn)


@rule(
    id="NET-08",
    name="nat-gateway-per-az",
    description=(
        "Production has one NAT gateway per availability zone; other stacks have at most one."
    ),
    rationale=(
        "A single NAT is a zonal single point of failure in production and wasted money elsewhere."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.PRODUCTION,
    remediation="Set natStrategy one-per-az in production stack config and single elsewhere.",
    references=(),
    resource_types=(NAT_GATEWAY, SUBNET),
    scope="stack",
)
def nat_gateway_per_az(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    nats = index.of_type(NAT_GATEWAY)
    public = public_subnets(index)
    zones = {get(s.props, "availabilityZone") for s in index.of_type(SUBNET) if s.urn in public}
    if not nats:
        report.not_applicable("no NAT gateway in the stack")
        return
    nat_zones = [
        get(subnet.props, "availabilityZone")
        for nat in nats
        for subnet in index.linked(nat, "subnetId", SUBNET)
    ]
    if report.production:
        missing = sorted(str(z) for z in zones - set(nat_zones))
        if missing or len(nat_zones) != len(set(nat_zones)):
            report.violation(
                f"NAT gateways cover {sorted(map(str, nat_zones))}; zones without one: {missing}"
            )
    elif len(nats) > 1:
        report.violation(f"{len(nats)} NAT gateways outside production; one is enough")
