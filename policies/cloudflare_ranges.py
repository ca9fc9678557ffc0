"""Cloudflare's published edge ranges (https://www.cloudflare.com/ips/), for EDGE-06.

A snapshot: the pack must decide offline and during preview, where the live lookup's
result is unknown. Refresh it when Cloudflare announces new ranges.
"""

from __future__ import annotations

import ipaddress

CLOUDFLARE_IPV4 = (
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
)
CLOUDFLARE_IPV6 = (
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
)


def within_cloudflare(cidr: str) -> bool:
    """Whether ``cidr`` lies inside one of Cloudflare's published ranges."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    ranges = CLOUDFLARE_IPV4 if network.version == 4 else CLOUDFLARE_IPV6
    return any(
        network.subnet_of(ipaddress.ip_network(r))  # type: ignore[arg-type]
        for r in ranges
    )


def is_private(cidr: str) -> bool:
    """RFC 1918 / unique-local ranges: traffic from inside the VPC, not the internet."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return network.is_private and network.prefixlen > 0
