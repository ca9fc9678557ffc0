"""Network layer settings: VPC layout, NAT strategy, endpoints, operator access."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.cidr import check_client_vpn_pool, parse_vpc_cidr, subnet_layout
from components.config.base import ConfigSection

# The only retention periods CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip


class NetworkConfig(ConfigSection):
    """VPC over three AZs with public, private and database tiers."""

    vpc_cidr: str = Field(
        default="10.0.0.0/16",
        alias="vpcCidr",
        description=(
            "Private IPv4 CIDR of the VPC, /16 to /22 for three AZs (for example 10.20.0.0/16); "
            "subnets are carved from it automatically."
        ),
    )
    availability_zones: tuple[str, ...] = Field(
        default=(),
        alias="availabilityZones",
        description=(
            "AZ names to use (2-6, distinct); empty means the first azCount AZs from the AZ lookup."
        ),
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
        description=(
            "Retention in days of the VPC flow-log and Client VPN log groups (a CloudWatch "
            "value: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, ...)."
        ),
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

    @property
    def effective_az_count(self) -> int:
        """How many AZs the VPC spans: the listed names, else ``azCount``."""
        return len(self.availability_zones) or self.az_count

    @field_validator("vpc_cidr")
    @classmethod
    def _is_private_vpc_network(cls, value: str) -> str:
        parse_vpc_cidr(value)
        return value

    @field_validator("availability_zones")
    @classmethod
    def _distinct_zones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if value and not 2 <= len(value) <= 6:
            raise ValueError(f"lists {len(value)} AZs; list 2 to 6, or none to look them up")
        if len(set(value)) != len(value):
            raise ValueError(f"lists an AZ twice ({', '.join(value)}); list distinct names")
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _cloudwatch_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS)
            raise ValueError(f"{value} is not a CloudWatch retention period (one of {allowed})")
        return value

    @model_validator(mode="after")
    def _layout_fits(self) -> NetworkConfig:
        try:
            subnet_layout(self.vpc_cidr, az_count=self.effective_az_count)
        except ValueError as exc:
            raise ValueError(f"vpcCidr: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _vpn_pool_fits(self) -> NetworkConfig:
        if not self.client_vpn_enabled:
            return self
        try:
            check_client_vpn_pool(self.client_vpn_cidr, vpc_cidr=self.vpc_cidr)
        except ValueError as exc:
            raise ValueError(f"clientVpnCidr: {exc}") from exc
        return self

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
