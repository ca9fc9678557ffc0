"""Pure CIDR layout for the network layer: subnet tiers, resolver address, VPN pool checks.

No Pulumi import. The layout splits the VPC into fixed blocks so a subnet's CIDR depends
only on the VPC CIDR, its tier and its AZ index (never on the other tiers):

    VPC (/p)
    ├── first quarter  (/p+2): public subnets,   one slot per AZ
    ├── second quarter (/p+2): database subnets, one slot per AZ
    └── second half    (/p+1): private subnets,  one slot per AZ (tasks and Lambda ENIs
                               need the most addresses)

Each tier is cut into the next power of two of AZ slots, so 3 AZs leave a spare slot per
tier and a fourth AZ can be added later without renumbering the first three.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

# AWS allows VPCs from /16 (largest) to /28; our tiers need far more than /28 though.
LARGEST_VPC_PREFIX = 16
# Every subnet keeps at least 64 addresses (59 usable: AWS reserves 5 per subnet), enough
# for NAT, load balancer, endpoint and database ENIs in one AZ.
SMALLEST_SUBNET_PREFIX = 26
# AWS Client VPN pools must be between /12 and /22.
CLIENT_VPN_PREFIX_RANGE = (12, 22)
PRIVATE_RANGES: tuple[ipaddress.IPv4Network, ...] = (
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
)
EXAMPLE_VPC_CIDR = "10.0.0.0/16"


class CidrLayoutError(ValueError):
    """A CIDR cannot host the requested layout; the message names the key and the fix."""


@dataclass(frozen=True)
class SubnetLayout:
    """The subnet CIDRs of each tier, index i belonging to the i-th AZ."""

    public: tuple[str, ...]
    private: tuple[str, ...]
    database: tuple[str, ...]


def parse_vpc_cidr(vpc_cidr: str) -> ipaddress.IPv4Network:
    """The VPC network of ``vpc_cidr``, or ``CidrLayoutError`` saying what to write instead."""
    try:
        network = ipaddress.IPv4Network(vpc_cidr.strip())
    except ValueError as exc:
        raise _unparseable(vpc_cidr, exc) from exc
    if network.prefixlen < LARGEST_VPC_PREFIX:
        raise CidrLayoutError(
            f"vpcCidr '{vpc_cidr}' is larger than AWS allows for a VPC "
            f"(/{LARGEST_VPC_PREFIX} at most). Fix: use a /{LARGEST_VPC_PREFIX} such as "
            f"{network.network_address}/{LARGEST_VPC_PREFIX}"
        )
    if not any(network.subnet_of(private) for private in PRIVATE_RANGES):
        raise CidrLayoutError(
            f"vpcCidr '{vpc_cidr}' is not a private (RFC 1918) range. Fix: choose a range "
            "inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, for example "
            f"{EXAMPLE_VPC_CIDR}"
        )
    return network


def _unparseable(vpc_cidr: str, exc: ValueError) -> CidrLayoutError:
    try:
        loose = ipaddress.IPv4Network(vpc_cidr.strip(), strict=False)
    except ValueError:
        return CidrLayoutError(
            f"vpcCidr '{vpc_cidr}' is not an IPv4 CIDR ({exc}). "
            f"Fix: write it as address/prefix, for example {EXAMPLE_VPC_CIDR}"
        )
    return CidrLayoutError(
        f"vpcCidr '{vpc_cidr}' has host bits set. Fix: use the network address {loose}"
    )


def subnet_layout(vpc_cidr: str, *, az_count: int) -> SubnetLayout:
    """Public, private and database subnet CIDRs for ``az_count`` AZs inside ``vpc_cidr``."""
    if az_count < 1:
        raise CidrLayoutError(f"az_count must be at least 1, got {az_count}")
    network = parse_vpc_cidr(vpc_cidr)
    slot_bits = math.ceil(math.log2(az_count)) if az_count > 1 else 0
    private_prefix = network.prefixlen + 1 + slot_bits
    quarter_prefix = network.prefixlen + 2 + slot_bits
    if quarter_prefix > SMALLEST_SUBNET_PREFIX:
        largest_ok = SMALLEST_SUBNET_PREFIX - 2 - slot_bits
        raise CidrLayoutError(
            f"vpcCidr '{vpc_cidr}' is too small for {az_count} AZs: public and database "
            f"subnets would be /{quarter_prefix}, smaller than the /{SMALLEST_SUBNET_PREFIX} "
            f"minimum. Fix: use a /{largest_ok} or larger VPC, for example {EXAMPLE_VPC_CIDR}"
        )
    halves = list(network.subnets(prefixlen_diff=1))
    quarters = list(halves[0].subnets(prefixlen_diff=1))
    return SubnetLayout(
        public=_slots(quarters[0], prefix=quarter_prefix, count=az_count),
        private=_slots(halves[1], prefix=private_prefix, count=az_count),
        database=_slots(quarters[1], prefix=quarter_prefix, count=az_count),
    )


def _slots(block: ipaddress.IPv4Network, *, prefix: int, count: int) -> tuple[str, ...]:
    subnets = block.subnets(new_prefix=prefix)
    return tuple(str(next(subnets)) for _ in range(count))


def vpc_dns_resolver(vpc_cidr: str) -> str:
    """The Amazon-provided DNS resolver of a VPC: its base address plus two."""
    network = parse_vpc_cidr(vpc_cidr)
    return str(network.network_address + 2)


def check_client_vpn_pool(pool_cidr: str, *, vpc_cidr: str) -> ipaddress.IPv4Network:
    """The Client VPN address pool, checked against AWS limits and the VPC range."""
    low, high = CLIENT_VPN_PREFIX_RANGE
    try:
        pool = ipaddress.IPv4Network(pool_cidr)
    except ValueError as exc:
        raise CidrLayoutError(
            f"clientVpnCidr '{pool_cidr}' is not an IPv4 network ({exc}). "
            "Fix: write a network address/prefix such as 172.31.0.0/22"
        ) from exc
    if not low <= pool.prefixlen <= high:
        raise CidrLayoutError(
            f"clientVpnCidr '{pool_cidr}' must be between /{low} and /{high} (AWS Client VPN "
            "limit). Fix: use a /22 such as 172.31.0.0/22"
        )
    if pool.overlaps(parse_vpc_cidr(vpc_cidr)):
        raise CidrLayoutError(
            f"clientVpnCidr '{pool_cidr}' overlaps vpcCidr '{vpc_cidr}'. "
            "Fix: pick a pool outside the VPC range, such as 172.31.0.0/22"
        )
    return pool


def cidr_slug(cidr: str) -> str:
    """A resource-name-safe form of a CIDR (``173.245.48.0/20`` -> ``173-245-48-0-20``)."""
    network = ipaddress.ip_network(cidr, strict=False)
    text = network.compressed.replace(".", "-").replace(":", "-").replace("/", "-")
    return "-".join(part for part in text.split("-") if part)
