"""Edge layer settings: Cloudflare zone, DNS, WAF and origin lockdown."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import ConfigSection

# Cloudflare accepts only these counting periods and mitigation timeouts (seconds);
# which of them a zone may use depends on its plan, so the API has the last word.
RATE_LIMIT_PERIODS = frozenset({10, 60, 120, 300, 600, 3600})
RATE_LIMIT_MITIGATION_TIMEOUTS = frozenset({0, 10, 60, 120, 300, 600, 3600, 86400})
# The OWASP ruleset's anomaly-score thresholds Cloudflare documents: high, medium, low.
OWASP_SCORE_THRESHOLDS = frozenset({25, 40, 60})

_COUNTRY = re.compile(r"^[A-Z]{2}$")


class EdgeConfig(ConfigSection):
    """Cloudflare in front of the ALB."""

    enabled: bool = Field(
        default=False,
        alias="edgeEnabled",
        description=(
            "Manage the Cloudflare edge layer (needs cloudflareZoneId and apiHostname); "
            "when off the ALB admits the whole internet."
        ),
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
    hsts_enabled: bool = Field(
        default=True,
        alias="hstsEnabled",
        description="Send Strict-Transport-Security from the edge (mandatory in prod).",
    )
    hsts_max_age_seconds: int = Field(
        default=31536000,
        ge=0,
        le=63072000,
        alias="hstsMaxAgeSeconds",
        description="HSTS max-age in seconds (31536000 = one year).",
    )
    hsts_include_subdomains: bool = Field(
        default=True,
        alias="hstsIncludeSubdomains",
        description="HSTS includeSubDomains for every host of the zone.",
    )
    hsts_preload: bool = Field(
        default=False,
        alias="hstsPreload",
        description="HSTS preload flag (hard to undo: only after the whole zone is HTTPS-only).",
    )
    waf_mode: Literal["block", "log"] = Field(
        default="block",
        alias="wafMode",
        description="Managed WAF action: block, or log (log-only, allowed in dev only).",
    )
    owasp_paranoia_level: int = Field(
        default=1,
        ge=1,
        le=4,
        alias="owaspParanoiaLevel",
        description="OWASP core ruleset paranoia level 1-4 (higher = more rules, more noise).",
    )
    owasp_score_threshold: int = Field(
        default=40,
        alias="owaspScoreThreshold",
        description="OWASP anomaly score that triggers the action: 25 (high), 40 or 60 (low).",
    )
    blocked_countries: tuple[str, ...] = Field(
        default=(),
        alias="blockedCountries",
        description="ISO 3166-1 alpha-2 country codes whose requests are blocked, e.g. [KP].",
    )
    blocked_ip_ranges: tuple[str, ...] = Field(
        default=(),
        alias="blockedIpRanges",
        description="IPv4/IPv6 addresses or CIDRs whose requests are blocked.",
    )
    rate_limit_requests: int = Field(
        default=600,
        ge=1,
        alias="rateLimitRequests",
        description="Requests one client IP may send to /api/ per rateLimitPeriodSeconds.",
    )
    rate_limit_period_seconds: int = Field(
        default=60,
        alias="rateLimitPeriodSeconds",
        description="Rate-limit counting period: 10, 60, 120, 300, 600 or 3600 seconds.",
    )
    rate_limit_mitigation_seconds: int = Field(
        default=60,
        alias="rateLimitMitigationSeconds",
        description="How long a client over the limit stays blocked (0-86400, Cloudflare steps).",
    )
    bot_protection: bool = Field(
        default=False,
        alias="botProtection",
        description="Turn on Bot Fight Mode for the zone (needs a plan that includes it).",
    )
    authenticated_origin_pulls: bool = Field(
        default=False,
        alias="authenticatedOriginPulls",
        description="Cloudflare presents its client certificate to the origin (zone-level AOP).",
    )

    @field_validator("blocked_countries")
    @classmethod
    def _countries_are_iso_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if not _COUNTRY.match(c)]
        if bad:
            raise ValueError(f"{bad} are not upper-case ISO 3166-1 alpha-2 codes such as 'KP'")
        return value

    @field_validator("blocked_ip_ranges")
    @classmethod
    def _ranges_are_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=True)
            except ValueError as exc:
                raise ValueError(f"'{item}' is not an IP address or CIDR ({exc})") from exc
        return value

    @field_validator("rate_limit_period_seconds")
    @classmethod
    def _period_is_allowed(cls, value: int) -> int:
        return _one_of(value, RATE_LIMIT_PERIODS)

    @field_validator("rate_limit_mitigation_seconds")
    @classmethod
    def _mitigation_is_allowed(cls, value: int) -> int:
        return _one_of(value, RATE_LIMIT_MITIGATION_TIMEOUTS)

    @field_validator("owasp_score_threshold")
    @classmethod
    def _threshold_is_allowed(cls, value: int) -> int:
        return _one_of(value, OWASP_SCORE_THRESHOLDS)

    @model_validator(mode="after")
    def _enabled_needs_zone_and_host(self) -> EdgeConfig:
        if self.enabled and not self.zone_id:
            raise ValueError("cloudflareZoneId: is required when edgeEnabled is true")
        if self.enabled and not self.api_hostname:
            raise ValueError("apiHostname: is required when edgeEnabled is true")
        return self


def _one_of(value: int, allowed: frozenset[int]) -> int:
    if value not in allowed:
        raise ValueError(f"{value} is not one of {sorted(allowed)}")
    return value
