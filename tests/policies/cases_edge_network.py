"""Violating and compliant programs for the EDGE and NET rules."""

from __future__ import annotations

import pulumi_aws as aws
import pulumi_cloudflare as cf

from policies.cloudflare_ranges import CLOUDFLARE_IPV4
from tests.policies.helpers import PROD_TAGS, Case

ZONE = "0123456789abcdef0123456789abcdef"
HOST = "api.agatha.ai"
GOOD_TLS = {
    "ssl": "strict",
    "min_tls_version": "1.2",
    "tls_1_3": "on",
    "always_use_https": "on",
    "automatic_https_rewrites": "on",
}
HSTS = {
    "strict_transport_security": {"enabled": True, "max_age": 31536000, "include_subdomains": True}
}


def zone(
    *,
    tls: dict[str, str] | None = None,
    hsts: bool = True,
    waf: str | None = "block",
    rate_limit: bool = True,
    proxied: bool = True,
) -> None:
    cf.DnsRecord(
        "api",
        zone_id=ZONE,
        name=HOST,
        type="CNAME",
        content="alb.elb.amazonaws.com",
        ttl=1,
        proxied=proxied,
    )
    for setting, value in (GOOD_TLS if tls is None else tls).items():
        cf.ZoneSetting(f"zs-{setting}", zone_id=ZONE, setting_id=setting, value=value)
    if hsts:
        cf.ZoneSetting("zs-hsts", zone_id=ZONE, setting_id="security_header", value=HSTS)
    _waf(waf)
    if rate_limit:
        _rate_limit()


def _waf(waf: str | None) -> None:
    if waf is None:
        return
    overrides = cf.RulesetRuleActionParametersOverridesArgs(action="log") if waf == "log" else None
    cf.Ruleset(
        "waf",
        zone_id=ZONE,
        name="waf",
        kind="zone",
        phase="http_request_firewall_managed",
        rules=[
            cf.RulesetRuleArgs(
                action="execute",
                expression="true",
                action_parameters=cf.RulesetRuleActionParametersArgs(
                    id="efb7b8c949ac4650a09736fc376e9aee", overrides=overrides
                ),
            )
        ],
    )


def _rate_limit() -> None:
    cf.Ruleset(
        "rl",
        zone_id=ZONE,
        name="rl",
        kind="zone",
        phase="http_ratelimit",
        rules=[
            cf.RulesetRuleArgs(
                action="block",
                expression=f'(http.host eq "{HOST}")',
                ratelimit=cf.RulesetRuleRatelimitArgs(
                    characteristics=["ip.src", "cf.colo.id"],
                    period=60,
                    requests_per_period=100,
                    mitigation_timeout=60,
                ),
            )
        ],
    )


def alb_group(cidrs: list[str]) -> None:
    cf.DnsRecord(
        "api",
        zone_id=ZONE,
        name=HOST,
        type="CNAME",
        content="alb.elb.amazonaws.com",
        ttl=1,
        proxied=True,
    )
    aws.ec2.SecurityGroup(
        "alb",
        description="alb",
        tags=PROD_TAGS,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=443, to_port=443, cidr_blocks=cidrs, description="https"
            )
        ],
    )


def vpc(*, flow_log: bool = True, default_sg: bool = True) -> aws.ec2.Vpc:
    network = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", tags=PROD_TAGS)
    if flow_log:
        aws.ec2.FlowLog(
            "flow",
            vpc_id=network.id,
            traffic_type="ALL",
            log_destination="arn:aws:logs:x",
            tags=PROD_TAGS,
        )
    if default_sg:
        aws.ec2.DefaultSecurityGroup("default", vpc_id=network.id, tags=PROD_TAGS)
    return network


def subnets(*, public_ip: bool, routed: bool, zones: int = 1) -> list[aws.ec2.Subnet]:
    network = vpc()
    made = [
        aws.ec2.Subnet(
            f"sn{i}",
            vpc_id=network.id,
            cidr_block=f"10.0.{i}.0/24",
            availability_zone=f"us-east-1{'abc'[i]}",
            map_public_ip_on_launch=public_ip,
            tags=PROD_TAGS,
        )
        for i in range(zones)
    ]
    if routed:
        igw = aws.ec2.InternetGateway("igw", vpc_id=network.id, tags=PROD_TAGS)
        table = aws.ec2.RouteTable("public", vpc_id=network.id, tags=PROD_TAGS)
        aws.ec2.Route(
            "default",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
        )
        for i, subnet in enumerate(made):
            aws.ec2.RouteTableAssociation(f"assoc{i}", subnet_id=subnet.id, route_table_id=table.id)
    return made


def data_group(*, cidr: bool) -> None:
    group = aws.ec2.SecurityGroup("db", description="db", tags=PROD_TAGS)
    app = aws.ec2.SecurityGroup("app", description="app", tags=PROD_TAGS)
    if cidr:
        aws.vpc.SecurityGroupIngressRule(
            "db-in",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=5432,
            to_port=5432,
            cidr_ipv4="10.0.0.0/16",
            description="vpc",
        )
    else:
        aws.vpc.SecurityGroupIngressRule(
            "db-in",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=5432,
            to_port=5432,
            referenced_security_group_id=app.id,
            description="app",
        )
    aws.rds.Cluster(
        "db", engine="aurora-postgresql", vpc_security_group_ids=[group.id], tags=PROD_TAGS
    )


def db_subnet_group(*, public: bool) -> None:
    made = subnets(public_ip=False, routed=public)
    aws.rds.SubnetGroup("dbsn", subnet_ids=[s.id for s in made], tags=PROD_TAGS)


def nacl(port: int) -> None:
    aws.ec2.NetworkAcl(
        "acl",
        vpc_id="vpc-1",
        tags=PROD_TAGS,
        ingress=[
            aws.ec2.NetworkAclIngressArgs(
                protocol="tcp",
                rule_no=100,
                action="allow",
                cidr_block="0.0.0.0/0",
                from_port=port,
                to_port=port,
            )
        ],
    )


def nats(count: int, zones: int) -> None:
    made = subnets(public_ip=True, routed=True, zones=zones)
    for i in range(count):
        aws.ec2.NatGateway(
            f"nat{i}", subnet_id=made[i].id, allocation_id="eipalloc-1", tags=PROD_TAGS
        )


def listeners(*, redirect: bool, policy: str) -> None:
    forward = aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn="arn:tg")
    redirect_action = aws.lb.ListenerDefaultActionArgs(
        type="redirect",
        redirect=aws.lb.ListenerDefaultActionRedirectArgs(
            protocol="HTTPS", port="443", status_code="HTTP_301"
        ),
    )
    aws.lb.Listener(
        "http",
        load_balancer_arn="arn:lb",
        port=80,
        protocol="HTTP",
        default_actions=[redirect_action if redirect else forward],
        tags=PROD_TAGS,
    )
    aws.lb.Listener(
        "https",
        load_balancer_arn="arn:lb",
        port=443,
        protocol="HTTPS",
        ssl_policy=policy,
        certificate_arn="arn:cert",
        default_actions=[forward],
        tags=PROD_TAGS,
    )


def alb(*, hardened: bool) -> None:
    aws.lb.LoadBalancer(
        "alb",
        load_balancer_type="application",
        subnets=["a", "b"],
        tags=PROD_TAGS,
        drop_invalid_header_fields=hardened,
        enable_deletion_protection=hardened,
        access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket="logs", enabled=hardened),
    )


def open_ingress(port: int, *, described: bool = True) -> None:
    aws.ec2.SecurityGroup(
        "sg",
        description="sg",
        tags=PROD_TAGS,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_blocks=["0.0.0.0/0"],
                description="web" if described else None,
            )
        ],
    )


CASES: list[Case] = [
    ("EDGE-01", False, lambda: zone(tls={**GOOD_TLS, "ssl": "flexible"})),
    ("EDGE-01", True, zone),
    ("EDGE-02", False, lambda: zone(hsts=False)),
    ("EDGE-02", True, zone),
    ("EDGE-03", False, lambda: zone(waf=None)),
    ("EDGE-03", False, lambda: zone(waf="log")),
    ("EDGE-03", True, zone),
    ("EDGE-04", False, lambda: zone(rate_limit=False)),
    ("EDGE-04", True, zone),
    ("EDGE-05", False, lambda: zone(proxied=False)),
    ("EDGE-05", True, zone),
    ("EDGE-06", False, lambda: alb_group(["0.0.0.0/0"])),
    ("EDGE-06", True, lambda: alb_group(list(CLOUDFLARE_IPV4))),
    ("NET-01", False, lambda: vpc(flow_log=False)),
    ("NET-01", True, vpc),
    ("NET-02", False, lambda: vpc(default_sg=False)),
    ("NET-02", True, vpc),
    ("NET-03", False, lambda: open_ingress(22)),
    ("NET-03", False, lambda: open_ingress(443, described=False)),
    ("NET-03", True, lambda: open_ingress(443)),
    ("NET-04", False, lambda: data_group(cidr=True)),
    ("NET-04", True, lambda: data_group(cidr=False)),
    ("NET-05", False, lambda: subnets(public_ip=True, routed=False)),
    ("NET-05", True, lambda: subnets(public_ip=True, routed=True)),
    ("NET-06", False, lambda: db_subnet_group(public=True)),
    ("NET-06", True, lambda: db_subnet_group(public=False)),
    ("NET-07", False, lambda: nacl(22)),
    ("NET-07", True, lambda: nacl(443)),
    ("NET-08", False, lambda: nats(1, zones=2)),
    ("NET-08", True, lambda: nats(2, zones=2)),
    (
        "NET-09",
        False,
        lambda: listeners(redirect=False, policy="ELBSecurityPolicy-TLS13-1-2-2021-06"),
    ),
    ("NET-09", False, lambda: listeners(redirect=True, policy="ELBSecurityPolicy-2016-08")),
    (
        "NET-09",
        True,
        lambda: listeners(redirect=True, policy="ELBSecurityPolicy-TLS13-1-2-2021-06"),
    ),
    ("NET-10", False, lambda: alb(hardened=False)),
    ("NET-10", True, lambda: alb(hardened=True)),
]


def alb_prefix_list(cidrs: list[str]) -> None:
    cf.DnsRecord(
        "api",
        zone_id=ZONE,
        name=HOST,
        type="CNAME",
        content="alb.elb.amazonaws.com",
        ttl=1,
        proxied=True,
    )
    group = aws.ec2.SecurityGroup("alb", description="alb", tags=PROD_TAGS)
    ranges = aws.ec2.ManagedPrefixList(
        "origin",
        address_family="IPv4",
        max_entries=len(cidrs),
        tags=PROD_TAGS,
        entries=[aws.ec2.ManagedPrefixListEntryArgs(cidr=c) for c in cidrs],
    )
    aws.vpc.SecurityGroupIngressRule(
        "alb-in",
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        prefix_list_id=ranges.id,
        description="origin",
    )


CASES += [
    ("EDGE-06", False, lambda: alb_prefix_list(["0.0.0.0/0"])),
    ("EDGE-06", True, lambda: alb_prefix_list(list(CLOUDFLARE_IPV4))),
]
