"""Edge layer settings: Cloudflare zone, DNS, WAF and origin lockdown."""

from __future__ import annotations

from pydantic import Field

from components.config.base import ConfigSection


class EdgeConfig(ConfigSection):
    """Cloudflare in front of the ALB."""

    enabled: bool = Field(
        default=True, alias="edgeEnabled", description="Manage the Cloudflare edge layer."
    )
    zone_id: str = Field(
        default="",
        alias="cloudflareZoneId",
        description="Existing Cloudflare zone id of the API domain (required when edgeEnabled).",
    )
    api_hostname: str = Field(
        default="",
        alias="apiHostname",
        description="Public API host name, for example api.dev.agatha.ai.",
    )
