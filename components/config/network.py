"""Network layer settings: VPC layout, NAT strategy, endpoints, operator access."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import ConfigSection


class NetworkConfig(ConfigSection):
    """VPC over three AZs with public, private and database tiers."""

    vpc_cidr: str = Field(
        default="10.0.0.0/16",
        alias="vpcCidr",
        description="IPv4 CIDR of the VPC, /16 to /20 (for example 10.20.0.0/16).",
    )
    availability_zones: tuple[str, ...] = Field(
        default=(),
        alias="availabilityZones",
        description="AZ names to use; empty means the first azCount AZs from the AZ lookup.",
    )
    az_count: int = Field(
        default=3, ge=2, le=6, alias="azCount", description="Number of AZs (2-6) when looked up."
    )
    nat_strategy: Literal["one-per-az", "single", "none"] = Field(
        default="single",
        alias="natStrategy",
        description="NAT gateways: one-per-az (prod), single (dev) or none.",
    )
    interface_endpoints: bool = Field(
        default=False,
        alias="interfaceEndpoints",
        description="Create interface VPC endpoints (SQS, Secrets Manager, ECR, Logs, KMS, STS).",
    )
    flow_log_retention_days: int = Field(
        default=30,
        ge=1,
        alias="flowLogRetentionDays",
        description="Retention in days of the VPC flow-log group.",
    )
    client_vpn_enabled: bool = Field(
        default=False,
        alias="clientVpnEnabled",
        description="Create the AWS Client VPN endpoint for operators (certificate auth).",
    )
    client_vpn_cidr: str = Field(
        default="172.31.0.0/22",
        alias="clientVpnCidr",
        description="Client VPN address pool, /22 or larger, outside the VPC CIDR.",
    )
    client_vpn_server_certificate_arn: str = Field(
        default="",
        alias="clientVpnServerCertificateArn",
        description="ACM ARN of the Client VPN server certificate (needed when enabled).",
    )
    client_vpn_client_root_certificate_arn: str = Field(
        default="",
        alias="clientVpnClientRootCertificateArn",
        description="ACM ARN of the client root CA certificate (needed when enabled).",
    )

    @field_validator("vpc_cidr", "client_vpn_cidr")
    @classmethod
    def _is_ipv4_network(cls, value: str) -> str:
        try:
            ipaddress.IPv4Network(value)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not an IPv4 network in CIDR form ({exc})") from exc
        return value

    @model_validator(mode="after")
    def _vpn_needs_certificates(self) -> NetworkConfig:
        if self.client_vpn_enabled and not (
            self.client_vpn_server_certificate_arn and self.client_vpn_client_root_certificate_arn
        ):
            raise ValueError(
                "clientVpnEnabled: needs clientVpnServerCertificateArn and "
                "clientVpnClientRootCertificateArn"
            )
        return self
