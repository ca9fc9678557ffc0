"""Pure CIDR layout of the network layer, and how its errors reach the stack config."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from components.cidr import (
    CidrLayoutError,
    check_client_vpn_pool,
    cidr_slug,
    parse_vpc_cidr,
    subnet_layout,
    vpc_dns_resolver,
)
from components.config.base import StackConfigError, read_section
from components.config.network import NetworkConfig


def test_slash_16_over_three_azs_gets_the_documented_layout() -> None:
    layout = subnet_layout("10.20.0.0/16", az_count=3)
    assert layout.public == ("10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20")
    assert layout.database == ("10.20.64.0/20", "10.20.80.0/20", "10.20.96.0/20")
    assert layout.private == ("10.20.128.0/19", "10.20.160.0/19", "10.20.192.0/19")


@pytest.mark.parametrize(
    ("vpc_cidr", "az_count"),
    [("10.0.0.0/16", 2), ("10.0.0.0/16", 3), ("172.16.0.0/20", 6), ("192.168.0.0/22", 3)],
)
def test_subnets_lie_inside_the_vpc_and_never_overlap(vpc_cidr: str, az_count: int) -> None:
    layout = subnet_layout(vpc_cidr, az_count=az_count)
    vpc = ipaddress.IPv4Network(vpc_cidr)
    subnets = [
        ipaddress.IPv4Network(c) for c in (*layout.public, *layout.private, *layout.database)
    ]
    assert len(subnets) == 3 * az_count
    assert all(subnet.subnet_of(vpc) for subnet in subnets)
    for first, second in itertools.combinations(subnets, 2):
        assert not first.overlaps(second), (first, second)


def test_private_subnets_are_the_largest_tier() -> None:
    layout = subnet_layout("10.0.0.0/16", az_count=3)
    private = ipaddress.IPv4Network(layout.private[0]).num_addresses
    assert private > ipaddress.IPv4Network(layout.public[0]).num_addresses
    assert private > ipaddress.IPv4Network(layout.database[0]).num_addresses


def test_adding_a_fourth_az_keeps_the_first_three_subnets() -> None:
    three = subnet_layout("10.0.0.0/16", az_count=3)
    four = subnet_layout("10.0.0.0/16", az_count=4)
    assert four.public[:3] == three.public
    assert four.private[:3] == three.private
    assert four.database[:3] == three.database


@pytest.mark.parametrize(
    ("vpc_cidr", "expected"),
    [
        ("10.0.0.0/33", "not an IPv4 CIDR"),
        ("banana", "not an IPv4 CIDR"),
        ("10.0.0.1/16", "host bits set. Fix: use the network address 10.0.0.0/16"),
        ("10.0.0.0/8", "larger than AWS allows"),
        ("8.8.0.0/16", "not a private (RFC 1918) range"),
    ],
)
def test_bad_vpc_cidr_is_rejected_naming_the_key_and_the_fix(vpc_cidr: str, expected: str) -> None:
    with pytest.raises(CidrLayoutError) as info:
        parse_vpc_cidr(vpc_cidr)
    message = str(info.value)
    assert message.startswith(f"vpcCidr '{vpc_cidr}'")
    assert expected in message
    assert "Fix:" in message


def test_too_small_vpc_is_rejected_with_the_smallest_size_that_fits() -> None:
    with pytest.raises(CidrLayoutError) as info:
        subnet_layout("10.0.0.0/24", az_count=3)
    message = str(info.value)
    assert "vpcCidr '10.0.0.0/24' is too small for 3 AZs" in message
    assert "Fix: use a /22 or larger VPC" in message
    assert subnet_layout("10.0.0.0/22", az_count=3).public[0] == "10.0.0.0/26"


def test_zero_azs_is_rejected() -> None:
    with pytest.raises(CidrLayoutError, match="az_count"):
        subnet_layout("10.0.0.0/16", az_count=0)


def test_dns_resolver_is_the_vpc_base_plus_two() -> None:
    assert vpc_dns_resolver("10.20.0.0/16") == "10.20.0.2"


def test_client_vpn_pool_must_fit_aws_limits_and_stay_outside_the_vpc() -> None:
    assert str(check_client_vpn_pool("172.31.0.0/22", vpc_cidr="10.0.0.0/16")) == "172.31.0.0/22"
    with pytest.raises(CidrLayoutError, match=r"clientVpnCidr .* between /12 and /22"):
        check_client_vpn_pool("172.31.0.0/24", vpc_cidr="10.0.0.0/16")
    with pytest.raises(CidrLayoutError, match="overlaps vpcCidr"):
        check_client_vpn_pool("10.0.4.0/22", vpc_cidr="10.0.0.0/16")
    with pytest.raises(CidrLayoutError, match="not an IPv4 network"):
        check_client_vpn_pool("nope", vpc_cidr="10.0.0.0/16")


def test_cidr_slug_is_name_safe_for_both_families() -> None:
    assert cidr_slug("173.245.48.0/20") == "173-245-48-0-20"
    assert cidr_slug("2400:cb00::/32") == "2400-cb00-32"


def test_too_small_vpc_reaches_the_config_loader_as_a_keyed_error() -> None:
    with pytest.raises(StackConfigError) as info:
        read_section(NetworkConfig, stack="dev", get_raw={"vpcCidr": "10.0.0.0/24"}.get)
    message = str(info.value)
    assert "config key 'agatha:vpcCidr' in Pulumi.dev.yaml is invalid" in message
    assert "too small for 3 AZs" in message


def test_listed_azs_decide_the_layout_size() -> None:
    # Two AZs fit in a /23 (each /25 quarter holds two /26 slots)...
    two = NetworkConfig(vpcCidr="10.0.0.0/23", availabilityZones=("a1", "a2"))
    assert two.effective_az_count == 2
    # ...three looked-up AZs do not.
    with pytest.raises(ValueError, match="too small for 3 AZs"):
        NetworkConfig(vpcCidr="10.0.0.0/23")


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"availabilityZones": '["us-east-1a", "us-east-1a"]'}, "availabilityZones"),
        ({"availabilityZones": '["us-east-1a"]'}, "availabilityZones"),
        ({"flowLogRetentionDays": "31"}, "flowLogRetentionDays"),
        (
            {
                "clientVpnEnabled": "true",
                "clientVpnCidr": "10.0.0.0/22",
                "clientVpnServerCertificateArn": "arn:aws:acm:us-east-1:1:certificate/s",
                "clientVpnClientRootCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c",
            },
            "clientVpnCidr",
        ),
    ],
)
def test_invalid_network_settings_name_their_key(raw: dict[str, str], key: str) -> None:
    with pytest.raises(StackConfigError) as info:
        read_section(NetworkConfig, stack="prod", get_raw=raw.get)
    assert f"'agatha:{key}'" in str(info.value)
