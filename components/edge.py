"""Edge layer: Cloudflare in front of the ALB (TLS, proxied DNS, WAF, rate limits, bots).

Everything here runs against an existing zone. With ``edgeEnabled`` off the component
creates nothing and ``origin_ingress_cidrs`` opens the ALB to the world instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_cloudflare as cloudflare

from components.config.edge import EdgeConfig

# Cloudflare's published managed rulesets and the OWASP rule that acts on the anomaly
# score (949110 "Inbound Anomaly Score Exceeded"); ids are global constants.
CLOUDFLARE_MANAGED_RULESET_ID = "efb7b8c949ac4650a09736fc376e9aee"
OWASP_CORE_RULESET_ID = "4814384a9e5d4991b9815dcfc25d2f1f"
OWASP_ANOMALY_RULE_ID = "6179ae15870a4bb7b2d480d4843b323c"

API_PATH_PREFIX = "/api/"
WORLD_IPV4 = ("0.0.0.0/0",)
WORLD_IPV6 = ("::/0",)
# Zone-level rate limiting counts per Cloudflare data centre; cf.colo.id is mandatory.
RATE_LIMIT_CHARACTERISTICS = ("cf.colo.id", "ip.src")


class AlbOrigin(Protocol):
    """What the edge needs from the compute layer."""

    @property
    def alb_dns_name(self) -> pulumi.Input[str]: ...


@dataclass
class EdgeArgs:
    """Inputs of the edge layer."""

    config: EdgeConfig
    compute: AlbOrigin


def origin_ingress_cidrs(
    config: EdgeConfig,
) -> tuple[pulumi.Input[list[str]], pulumi.Input[list[str]]]:
    """(IPv4, IPv6) CIDRs the ALB admits: Cloudflare's ranges behind the edge, else all."""
    if not config.enabled:
        return list(WORLD_IPV4), list(WORLD_IPV6)
    ranges = cloudflare.get_ip_ranges_output()
    return ranges.ipv4_cidrs.apply(list), ranges.ipv6_cidrs.apply(list)


def zone_settings(config: EdgeConfig) -> dict[str, Any]:
    """Zone setting id -> value: strict TLS to the origin, modern TLS only, HTTPS always."""
    return {
        "ssl": "strict",
        "min_tls_version": "1.2",
        "tls_1_3": "on",
        "always_use_https": "on",
        "automatic_https_rewrites": "on",
        # The value is passed to the API as is: snake_case keys, or the provider shows a
        # diff on every preview (pulumi/pulumi-cloudflare#1579).
        "security_header": {
            "strict_transport_security": {
                "enabled": config.hsts_enabled,
                "max_age": config.hsts_max_age_seconds,
                "include_subdomains": config.hsts_include_subdomains,
                "preload": config.hsts_preload,
                "nosniff": True,
            }
        },
    }


def api_paths_expression(hostname: str) -> str:
    """Rules-language expression matching the API paths of the API host."""
    return (
        f'(http.host eq "{hostname}" and starts_with(http.request.uri.path, "{API_PATH_PREFIX}"))'
    )


def country_block_expression(countries: tuple[str, ...]) -> str:
    """Expression matching requests from any of ``countries`` (ISO alpha-2)."""
    quoted = " ".join(f'"{c}"' for c in countries)
    return f"(ip.src.country in {{{quoted}}})"


def ip_block_expression(ranges: tuple[str, ...]) -> str:
    """Expression matching requests from any of ``ranges`` (addresses or CIDRs)."""
    return f"(ip.src in {{{' '.join(ranges)}}})"


def disabled_paranoia_categories(level: int) -> list[str]:
    """OWASP tag categories above ``level``; disabling them sets the paranoia level."""
    return [f"paranoia-level-{n}" for n in range(level + 1, 5)]


class Edge(pulumi.ComponentResource):
    """Cloudflare zone hardening, proxied DNS to the ALB, WAF, rate limits and bot rules."""

    api_hostname: str | None
    dns_record_id: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:edge:Edge", name, None, opts)
        config = args.config
        self.api_hostname = config.api_hostname if config.enabled else None
        self.dns_record_id = None
        if config.enabled:
            child = pulumi.ResourceOptions(parent=self)
            self._create_zone_settings(name, config, child)
            self.dns_record_id = self._create_dns_record(name, config, args.compute, child)
            self._create_managed_waf(name, config, child)
            self._create_custom_rules(name, config, child)
            self._create_rate_limit(name, config, child)
            self._create_cache_bypass(name, config, child)
            self._create_zone_protections(name, config, child)
        self.register_outputs({"apiHostname": self.api_hostname, "dnsRecordId": self.dns_record_id})

    @staticmethod
    def _create_zone_settings(name: str, config: EdgeConfig, opts: pulumi.ResourceOptions) -> None:
        for setting_id, value in zone_settings(config).items():
            cloudflare.ZoneSetting(
                f"{name}-zone-{setting_id.replace('_', '-')}",
                zone_id=config.zone_id,
                setting_id=setting_id,
                value=value,
                opts=opts,
            )

    @staticmethod
    def _create_dns_record(
        name: str, config: EdgeConfig, compute: AlbOrigin, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        # Proxied, so clients resolve Cloudflare's anycast addresses and never the ALB's.
        record = cloudflare.DnsRecord(
            f"{name}-api-dns",
            zone_id=config.zone_id,
            name=config.api_hostname,
            type="CNAME",
            content=compute.alb_dns_name,
            proxied=True,
            ttl=1,
            comment="AgathaAI API gateway ALB (managed by Pulumi)",
            opts=opts,
        )
        return record.id

    @staticmethod
    def _create_managed_waf(name: str, config: EdgeConfig, opts: pulumi.ResourceOptions) -> None:
        owasp_overrides = cloudflare.RulesetRuleActionParametersOverridesArgs(
            categories=[
                cloudflare.RulesetRuleActionParametersOverridesCategoryArgs(
                    category=category, enabled=False
                )
                for category in disabled_paranoia_categories(config.owasp_paranoia_level)
            ]
            or None,
            # OWASP rules only add to a score; the final rule is the one that acts.
            rules=[
                cloudflare.RulesetRuleActionParametersOverridesRuleArgs(
                    id=OWASP_ANOMALY_RULE_ID,
                    action=config.waf_mode,
                    score_threshold=config.owasp_score_threshold,
                )
            ],
        )
        cloudflare.Ruleset(
            f"{name}-waf-managed",
            zone_id=config.zone_id,
            kind="zone",
            phase="http_request_firewall_managed",
            name="agatha managed WAF",
            description=f"Cloudflare Managed and OWASP core rulesets ({config.waf_mode})",
            rules=[
                _execute_rule(
                    CLOUDFLARE_MANAGED_RULESET_ID,
                    "Cloudflare Managed Ruleset",
                    cloudflare.RulesetRuleActionParametersOverridesArgs(action=config.waf_mode),
                ),
                _execute_rule(
                    OWASP_CORE_RULESET_ID, "Cloudflare OWASP Core Ruleset", owasp_overrides
                ),
            ],
            opts=opts,
        )

    @staticmethod
    def _create_custom_rules(name: str, config: EdgeConfig, opts: pulumi.ResourceOptions) -> None:
        rules = []
        if config.blocked_countries:
            rules.append(
                cloudflare.RulesetRuleArgs(
                    action="block",
                    expression=country_block_expression(config.blocked_countries),
                    description="Block requests from blocked countries",
                    enabled=True,
                )
            )
        if config.blocked_ip_ranges:
            rules.append(
                cloudflare.RulesetRuleArgs(
                    action="block",
                    expression=ip_block_expression(config.blocked_ip_ranges),
                    description="Block requests from blocked IP ranges",
                    enabled=True,
                )
            )
        if not rules:
            return
        cloudflare.Ruleset(
            f"{name}-waf-custom",
            zone_id=config.zone_id,
            kind="zone",
            phase="http_request_firewall_custom",
            name="agatha custom firewall rules",
            description="Geo-blocking and IP block lists",
            rules=rules,
            opts=opts,
        )

    @staticmethod
    def _create_rate_limit(name: str, config: EdgeConfig, opts: pulumi.ResourceOptions) -> None:
        cloudflare.Ruleset(
            f"{name}-rate-limit",
            zone_id=config.zone_id,
            kind="zone",
            phase="http_ratelimit",
            name="agatha API rate limits",
            description="Per-client request budget on the API paths",
            rules=[
                cloudflare.RulesetRuleArgs(
                    action="block",
                    expression=api_paths_expression(config.api_hostname),
                    description=(
                        f"{config.rate_limit_requests} requests per "
                        f"{config.rate_limit_period_seconds}s per client IP on {API_PATH_PREFIX}"
                    ),
                    enabled=True,
                    ratelimit=cloudflare.RulesetRuleRatelimitArgs(
                        characteristics=list(RATE_LIMIT_CHARACTERISTICS),
                        period=config.rate_limit_period_seconds,
                        requests_per_period=config.rate_limit_requests,
                        mitigation_timeout=config.rate_limit_mitigation_seconds,
                    ),
                )
            ],
            opts=opts,
        )

    @staticmethod
    def _create_cache_bypass(name: str, config: EdgeConfig, opts: pulumi.ResourceOptions) -> None:
        # Inference results are per tenant: caching one at the edge would leak it.
        cloudflare.Ruleset(
            f"{name}-cache-bypass",
            zone_id=config.zone_id,
            kind="zone",
            phase="http_request_cache_settings",
            name="agatha API cache bypass",
            description="API responses are never cached at the edge",
            rules=[
                cloudflare.RulesetRuleArgs(
                    action="set_cache_settings",
                    expression=api_paths_expression(config.api_hostname),
                    description=f"Bypass cache for {API_PATH_PREFIX}",
                    enabled=True,
                    action_parameters=cloudflare.RulesetRuleActionParametersArgs(cache=False),
                )
            ],
            opts=opts,
        )

    @staticmethod
    def _create_zone_protections(
        name: str, config: EdgeConfig, opts: pulumi.ResourceOptions
    ) -> None:
        if config.bot_protection:
            cloudflare.BotManagement(
                f"{name}-bot-management",
                zone_id=config.zone_id,
                fight_mode=True,
                enable_js=True,
                opts=opts,
            )
        if config.authenticated_origin_pulls:
            # Cloudflare then presents its origin-pull client certificate; the origin must
            # verify it for this to close the path around the WAF.
            cloudflare.AuthenticatedOriginPullsSettings(
                f"{name}-origin-pulls",
                zone_id=config.zone_id,
                enabled=True,
                opts=opts,
            )


def _execute_rule(
    ruleset_id: str,
    description: str,
    overrides: cloudflare.RulesetRuleActionParametersOverridesArgs,
) -> cloudflare.RulesetRuleArgs:
    return cloudflare.RulesetRuleArgs(
        action="execute",
        expression="true",
        description=f"Execute {description}",
        enabled=True,
        action_parameters=cloudflare.RulesetRuleActionParametersArgs(
            id=ruleset_id, overrides=overrides
        ),
    )
