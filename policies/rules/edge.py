"""Edge rules (Cloudflare in front of the ALB): TLS, HSTS, WAF, rate limits, proxying."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from policies.cloudflare_ranges import is_private, within_cloudflare
from policies.framework import Enforcement, Reporter, rule
from policies.props import as_list, get, num, show, truthy
from policies.topology import PREFIX_LIST, SG, SG_INGRESS, SG_RULE, StackIndex, ingress_rules

DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET = "cloudflare:index/ruleset:Ruleset"
ORIGIN_RECORD_TYPES = ("A", "AAAA", "CNAME")
MANAGED_WAF_PHASE = "http_request_firewall_managed"
RATE_LIMIT_PHASE = "http_ratelimit"
BLOCKING_ACTIONS = ("block", "challenge", "managed_challenge", "js_challenge")
HSTS_MIN_AGE = 15_552_000  # six months, the floor browsers' preload lists accept

# setting id -> (accepted values, what to set)
TLS_SETTINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "ssl": (("strict", "full_strict"), "strict"),
    "min_tls_version": (("1.2", "1.3"), "1.2"),
    "tls_1_3": (("on", "zrt"), "on"),
    "always_use_https": (("on",), "on"),
    "automatic_https_rewrites": (("on",), "on"),
}


def _origin_zones(index: StackIndex) -> dict[str, PolicyResource]:
    "''Zones that serve origin records, mapped to one such record.''"
    zones: dict[str, PolicyResource] = {}
    for record in index.of_type(DNS_RECORD):
        if str(get(record.props, "type", default="")).upper() in ORIGIN_RECORD_TYPES:
            zones.setdefault(str(get(record.props, "zoneId")), record)
    return zones


def _settings(index: StackIndex, zone: str) -> dict[str, Any]:
    return {
        str(get(s.props, "settingId")): get(s.props, "value")
        for s in index.of_type(ZONE_SETTING)
        if str(get(s.props, "zoneId")) == zone and get(s.props, "enabled") is not False
    }


def _rulesets(index: StackIndex, zone: str, phase: str) -> list[PolicyResource]:
    return [
        r
        for r in index.of_type(RULESET)
        if str(get(r.props, "zoneId")) == zone and get(r.props, "phase") == phase
    ]


def _enabled_rules(ruleset: PolicyResource) -> list[Mapping[str, Any]]:
    return [r for r in as_list(get(ruleset.props, "rules")) if get(r, "enabled") is not False]


@rule(
    id="EDGE-01",
    name="cloudflare-strict-tls",
    description=(
        "Every Cloudflare zone serving the origin uses strict SSL, TLS 1.2+, TLS 1.3 and "
        "HTTPS-only."
    ),
    rationale="Flexible SSL or old TLS lets traffic travel in clear text or with broken ciphers.",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Add cloudflare.ZoneSetting resources: ssl=strict, min_tls_version=1.2, tls_1_3=on, "
        "always_use_https=on, automatic_https_rewrites=on."
    ),
    references=(),
    resource_types=(ZONE_SETTING, DNS_RECORD),
    scope="stack",
)
def cloudflare_strict_tls(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    zones = _origin_zones(index)
    if not zones:
        report.not_applicable("no Cloudflare zone serves an origin record")
    for zone, record in zones.items():
        with report.deciding(record.urn):
            settings = _settings(index, zone)
            for setting, (accepted, wanted) in TLS_SETTINGS.items():
                value = settings.get(setting)
                if value not in accepted:
                    report.violation(
                        f"zone {zone}: {setting} is {value!r}; set it to {wanted!r}", record.urn
                    )


@rule(
    id="EDGE-02",
    name="cloudflare-hsts",
    description="Zones serving the origin send HSTS with a max-age of at least six months.",
    rationale="Without HSTS a first request can be downgraded to HTTP and intercepted.",
    severity=Severity.MEDIUM,
    enforcement=Enforcement.PRODUCTION,
    remediation="Add a cloudflare.ZoneSetting security_header with strict_transport_security "
    "enabled=true, max_age>=15552000, include_subdomains=true, nosniff=true.",
    references=(),
    resource_types=(ZONE_SETTING, DNS_RECORD),
    scope="stack",
)
def cloudflare_hsts(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    zones = _origin_zones(index)
    if not zones:
        report.not_applicable("no Cloudflare zone serves an origin record")
    for zone, record in zones.items():
        with report.deciding(record.urn):
            hsts = get(_settings(index, zone).get("security_header"), "strict_transport_security")
            age = num(get(hsts, "max_age"))
            if not truthy(get(hsts, "enabled")) or age is None or age < HSTS_MIN_AGE:
                report.violation(
                    f"zone {zone}: HSTS is off or max_age {show(age)} < {HSTS_MIN_AGE}", record.urn
                )


@rule(
    id="EDGE-03",
    name="cloudflare-managed-waf",
    description=(
        "Cloudflare's managed WAF rules run on every origin zone, blocking (not log-only) in "
        "production."
    ),
    rationale="The managed rulesets stop known exploits before they reach the gateway.",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Add a cloudflare.Ruleset in phase http_request_firewall_managed that executes the "
    "Cloudflare Managed Ruleset; do not override its action to 'log' in production.",
    references=("CKV2_AWS_28 (analogue)",),
    resource_types=(RULESET, DNS_RECORD),
    scope="stack",
)
def cloudflare_managed_waf(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    zones = _origin_zones(index)
    if not zones:
        report.not_applicable("no Cloudflare zone serves an origin record")
    for zone, record in zones.items():
        with report.deciding(record.urn):
            executes = [
                (ruleset, r)
                for ruleset in _rulesets(index, zone, MANAGED_WAF_PHASE)
                for r in _enabled_rules(ruleset)
                if get(r, "action") == "execute"
            ]
            if not executes:
                report.violation(f"zone {zone}: no managed WAF ruleset is executed", record.urn)
            for ruleset, r in executes:
                if get(r, "actionParameters", "overrides", "action") == "log":
                    report.violation(
                        f"zone {zone}: managed WAF overridden to log-only",
                        ruleset.urn,
                        production_only=True,
                    )


def _covers_host(expression: str, hosts: list[str]) -> bool:
    if expression.strip() == "true" or "http.host" not in expression:
        return True
    return any(host in expression for host in hosts)


@rule(
    id="EDGE-04",
    name="cloudflare-rate-limit",
    description="At least one blocking Cloudflare rate-limit rule covers the API host.",
    rationale=(
        "Rate limits at the edge absorb credential stuffing and scraping before they cost LLM "
        "tokens."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation="Add a cloudflare.Ruleset in phase http_ratelimit whose rule matches the API host "
    '(http.host eq "<api host>") with a ratelimit block and action block or challenge.',
    references=(),
    resource_types=(RULESET, DNS_RECORD),
    scope="stack",
)
def cloudflare_rate_limit(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    zones = _origin_zones(index)
    if not zones:
        report.not_applicable("no Cloudflare zone serves an origin record")
    for zone, record in zones.items():
        with report.deciding(record.urn):
            hosts = [
                str(get(r.props, "name"))
                for r in index.of_type(DNS_RECORD)
                if str(get(r.props, "zoneId")) == zone
            ]
            limited = any(
                get(r, "ratelimit") is not None
                and get(r, "action") in BLOCKING_ACTIONS
                and _covers_host(str(get(r, "expression", default="")), hosts)
                for ruleset in _rulesets(index, zone, RATE_LIMIT_PHASE)
                for r in _enabled_rules(ruleset)
            )
            if not limited:
                report.violation(
                    f"zone {zone}: no blocking rate-limit rule covers {hosts}", record.urn
                )


@rule(
    id="EDGE-05",
    name="cloudflare-origin-records-proxied",
    description="DNS records that point at the origin are proxied through Cloudflare.",
    rationale=(
        "An unproxied record publishes the ALB address and bypasses WAF, rate limits and TLS "
        "settings."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Set proxied=True on the cloudflare.DnsRecord (A, AAAA and CNAME records).",
    references=(),
    resource_types=(DNS_RECORD,),
)
def cloudflare_origin_records_proxied(args: ResourceValidationArgs, report: Reporter) -> None:
    record_type = str(get(args.props, "type", default="")).upper()
    if record_type in ORIGIN_RECORD_TYPES and not truthy(get(args.props, "proxied")):
        report.violation(f"{record_type} record {get(args.props, 'name')} is not proxied")


@rule(
    id="EDGE-06",
    name="origin-only-from-cloudflare",
    description=(
        "When Cloudflare fronts the stack, HTTP(S) ingress from the internet is limited to "
        "Cloudflare's ranges."
    ),
    rationale=(
        "An ALB open to the world lets attackers skip the WAF by calling the origin directly."
    ),
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    remediation="Build the ALB security group's 80/443 ingress from cloudflare.get_ip_ranges() "
    "(components/edge.py origin_ingress_cidrs), not 0.0.0.0/0.",
    references=("CKV_AWS_260", "AwsSolutions-EC23"),
    resource_types=(DNS_RECORD, SG, SG_INGRESS, SG_RULE, PREFIX_LIST),
    scope="stack",
)
def origin_only_from_cloudflare(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    proxied = [r for r in index.of_type(DNS_RECORD) if truthy(get(r.props, "proxied"))]
    if not proxied:
        report.not_applicable("no proxied Cloudflare record: the origin is not behind Cloudflare")
        return
    for ingress in ingress_rules(index):
        with report.deciding(ingress.urn):
            if not (ingress.covers(443) or ingress.covers(80)):
                continue
            outside = [c for c in ingress.cidrs if not within_cloudflare(c) and not is_private(c)]
            if outside:
                report.violation(f"HTTP(S) ingress from {outside} bypasses Cloudflare", ingress.urn)
