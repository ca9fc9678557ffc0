"""Edge layer: Cloudflare zone hardening, proxied DNS, WAF, rate limits, origin lockdown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest

from agatha.plan.graph import PlannedResource, ResourceGraph
from agatha.plan.mock_runtime import evaluate_program
from agatha.plan.mock_values import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6
from agatha.plan.stack_files import load_stack_settings
from components.config.base import StackConfigError, read_section
from components.config.edge import EdgeConfig
from components.edge import (
    CLOUDFLARE_MANAGED_RULESET_ID,
    OWASP_ANOMALY_RULE_ID,
    OWASP_CORE_RULESET_ID,
    Edge,
    EdgeArgs,
    origin_ingress_cidrs,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ALB_DNS = "agatha-prod-alb-1234567890.us-east-1.elb.amazonaws.com"
HOST = "api.agatha.ai"
RULESET = "cloudflare:index/ruleset:Ruleset"


@dataclass(frozen=True)
class FakeCompute:
    alb_dns_name: str = ALB_DNS


def _config(**overrides: Any) -> EdgeConfig:
    values: dict[str, Any] = {
        "enabled": True,
        "zone_id": "fedcba9876543210fedcba9876543210",
        "api_hostname": HOST,
    }
    return EdgeConfig.model_validate(values | overrides)


PROD_LIKE = _config(
    waf_mode="block",
    hsts_enabled=True,
    blocked_countries=("KP", "IR"),
    blocked_ip_ranges=("203.0.113.0/24", "2001:db8::/32"),
    rate_limit_requests=300,
    rate_limit_period_seconds=60,
    bot_protection=True,
    authenticated_origin_pulls=True,
)
DEV_LIKE = _config(waf_mode="log", hsts_enabled=False)


def _plan(config: EdgeConfig) -> ResourceGraph:
    def program() -> None:
        Edge("agatha-test", EdgeArgs(config=config, compute=FakeCompute()))

    return evaluate_program(program)


def _phase(graph: ResourceGraph, phase: str) -> PlannedResource:
    matches = [r for r in graph.of_type(RULESET) if r.inputs["phase"] == phase]
    assert len(matches) == 1, f"expected one {phase} ruleset, found {len(matches)}"
    return matches[0]


def _settings(graph: ResourceGraph) -> dict[str, Any]:
    return {
        r.inputs["settingId"]: r.inputs["value"]
        for r in graph.of_type("cloudflare:index/zoneSetting:ZoneSetting")
    }


@pytest.fixture(scope="module")
def prod_like() -> ResourceGraph:
    return _plan(PROD_LIKE)


@pytest.fixture(scope="module")
def dev_like() -> ResourceGraph:
    return _plan(DEV_LIKE)


def test_zone_settings_enforce_strict_tls_and_https(prod_like: ResourceGraph) -> None:
    settings = _settings(prod_like)
    assert settings["ssl"] == "strict"
    assert settings["min_tls_version"] == "1.2"
    assert settings["tls_1_3"] == "on"
    assert settings["always_use_https"] == "on"
    assert settings["automatic_https_rewrites"] == "on"
    for resource in prod_like.of_type("cloudflare:index/zoneSetting:ZoneSetting"):
        assert resource.inputs["zoneId"] == PROD_LIKE.zone_id


def test_hsts_follows_config(prod_like: ResourceGraph, dev_like: ResourceGraph) -> None:
    on = _settings(prod_like)["security_header"]["strict_transport_security"]
    off = _settings(dev_like)["security_header"]["strict_transport_security"]
    assert on["enabled"] is True
    assert on["max_age"] == 31536000
    assert off["enabled"] is False


def test_api_record_is_proxied_cname_to_the_alb(prod_like: ResourceGraph) -> None:
    (record,) = prod_like.of_type("cloudflare:index/dnsRecord:DnsRecord")
    assert record.inputs["name"] == HOST
    assert record.inputs["type"] == "CNAME"
    assert record.inputs["content"] == ALB_DNS
    assert record.inputs["proxied"] is True


def test_prod_like_managed_waf_blocks(prod_like: ResourceGraph) -> None:
    rules = _phase(prod_like, "http_request_firewall_managed").inputs["rules"]
    by_ruleset = {r["actionParameters"]["id"]: r for r in rules}
    assert set(by_ruleset) == {CLOUDFLARE_MANAGED_RULESET_ID, OWASP_CORE_RULESET_ID}
    assert all(r["action"] == "execute" and r["enabled"] for r in rules)
    managed = by_ruleset[CLOUDFLARE_MANAGED_RULESET_ID]["actionParameters"]["overrides"]
    assert managed["action"] == "block"
    owasp = by_ruleset[OWASP_CORE_RULESET_ID]["actionParameters"]["overrides"]
    (anomaly,) = owasp["rules"]
    assert anomaly["id"] == OWASP_ANOMALY_RULE_ID
    assert anomaly["action"] == "block"
    assert anomaly["scoreThreshold"] == 40


def test_dev_like_managed_waf_may_only_log(dev_like: ResourceGraph) -> None:
    rules = _phase(dev_like, "http_request_firewall_managed").inputs["rules"]
    actions = {r["actionParameters"]["id"]: r["actionParameters"]["overrides"] for r in rules}
    assert actions[CLOUDFLARE_MANAGED_RULESET_ID]["action"] == "log"
    assert actions[OWASP_CORE_RULESET_ID]["rules"][0]["action"] == "log"


def test_paranoia_level_disables_higher_owasp_categories() -> None:
    graph = _plan(_config(owasp_paranoia_level=2))
    rules = _phase(graph, "http_request_firewall_managed").inputs["rules"]
    owasp = next(r for r in rules if r["actionParameters"]["id"] == OWASP_CORE_RULESET_ID)
    disabled = {c["category"] for c in owasp["actionParameters"]["overrides"]["categories"]}
    assert disabled == {"paranoia-level-3", "paranoia-level-4"}


def test_rate_limit_rule_covers_api_paths_per_client_ip(prod_like: ResourceGraph) -> None:
    (rule,) = _phase(prod_like, "http_ratelimit").inputs["rules"]
    assert rule["action"] == "block"
    assert f'http.host eq "{HOST}"' in rule["expression"]
    assert '"/api/"' in rule["expression"]
    assert "ip.src" in rule["ratelimit"]["characteristics"]
    assert rule["ratelimit"]["requestsPerPeriod"] == 300
    assert rule["ratelimit"]["period"] == 60


def test_custom_rules_block_configured_countries_and_ranges(prod_like: ResourceGraph) -> None:
    rules = _phase(prod_like, "http_request_firewall_custom").inputs["rules"]
    assert all(r["action"] == "block" for r in rules)
    geo = next(r["expression"] for r in rules if "ip.src.country" in r["expression"])
    assert '"KP"' in geo and '"IR"' in geo
    ips = next(r["expression"] for r in rules if "ip.src in" in r["expression"])
    assert "203.0.113.0/24" in ips and "2001:db8::/32" in ips


def test_no_custom_ruleset_without_block_lists(dev_like: ResourceGraph) -> None:
    phases = {r.inputs["phase"] for r in dev_like.of_type(RULESET)}
    assert "http_request_firewall_custom" not in phases


def test_api_paths_bypass_the_cache(prod_like: ResourceGraph) -> None:
    (rule,) = _phase(prod_like, "http_request_cache_settings").inputs["rules"]
    assert rule["action"] == "set_cache_settings"
    assert rule["actionParameters"]["cache"] is False
    assert '"/api/"' in rule["expression"]


def test_bot_fight_mode_and_origin_pulls_follow_config(
    prod_like: ResourceGraph, dev_like: ResourceGraph
) -> None:
    (bots,) = prod_like.of_type("cloudflare:index/botManagement:BotManagement")
    assert bots.inputs["fightMode"] is True
    pulls_type = (
        "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
    )
    (pulls,) = prod_like.of_type(pulls_type)
    assert pulls.inputs["enabled"] is True
    assert not dev_like.of_type("cloudflare:index/botManagement:BotManagement")
    assert not dev_like.of_type(pulls_type)


def test_every_cloudflare_resource_is_a_child_of_the_edge(prod_like: ResourceGraph) -> None:
    (edge,) = prod_like.of_type("agatha:edge:Edge")
    children = [r for r in prod_like if r.type.startswith("cloudflare:")]
    assert children
    assert all(r.parent == edge.urn for r in children)
    assert all(r.name.startswith("agatha-test-") for r in children)


def test_disabled_edge_creates_no_cloudflare_resources() -> None:
    graph = _plan(EdgeConfig.model_validate({"enabled": False}))
    assert [r.type for r in graph] == ["agatha:edge:Edge"]


def _ingress(config: EdgeConfig) -> dict[str, Any]:
    def program() -> None:
        v4, v6 = origin_ingress_cidrs(config)
        pulumi.export("v4", v4)
        pulumi.export("v6", v6)

    return evaluate_program(program).exports


def test_origin_ingress_is_cloudflare_ranges_when_edge_enabled() -> None:
    exports = _ingress(PROD_LIKE)
    assert exports["v4"] == CLOUDFLARE_IPV4
    assert exports["v6"] == CLOUDFLARE_IPV6
    assert "0.0.0.0/0" not in exports["v4"]
    assert "::/0" not in exports["v6"]


def test_origin_ingress_is_the_world_when_edge_disabled() -> None:
    exports = _ingress(EdgeConfig.model_validate({"enabled": False}))
    assert exports == {"v4": ["0.0.0.0/0"], "v6": ["::/0"]}


def _read(raw: dict[str, str], stack: str = "dev") -> EdgeConfig:
    value = read_section(EdgeConfig, stack=stack, get_raw=raw.get)
    assert isinstance(value, EdgeConfig)
    return value


def test_enabled_edge_without_zone_is_rejected_naming_the_key() -> None:
    with pytest.raises(StackConfigError, match="cloudflareZoneId"):
        _read({"edgeEnabled": "true", "apiHostname": HOST})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("blockedCountries", '["kp"]'),
        ("blockedIpRanges", '["10.0.0.1/8"]'),
        ("rateLimitPeriodSeconds", "45"),
        ("owaspScoreThreshold", "30"),
        ("wafMode", "simulate"),
    ],
)
def test_invalid_edge_values_are_rejected_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(StackConfigError, match=key):
        _read({key: value})


def test_prod_stack_file_blocks_and_sends_hsts() -> None:
    settings = load_stack_settings(REPO_ROOT, "prod")
    config = _read({k.removeprefix("agatha:"): v for k, v in settings.config.items()}, "prod")
    assert config.enabled is True
    assert config.waf_mode == "block"
    assert config.hsts_enabled is True
