"""Load-balancer rules: HTTPS listeners and ALB hardening."""

from __future__ import annotations

from pulumi_policy import ResourceValidationArgs, Severity

from policies.framework import Enforcement, Reporter, rule
from policies.props import as_list, get, truthy

LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
# Predefined policies that still allow TLS 1.0/1.1; the other TLS13/TLS-1-2/FS-1-2 ones are fine.
WEAK_TLS_POLICIES = (
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-2015-05",
    "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06",
    "ELBSecurityPolicy-TLS13-1-0-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-1-PQ-2025-09",
)
SAFE_DESYNC_MODES = ("defensive", "strictest")


def _redirects_to_https(props: object) -> bool:
    actions = as_list(get(props, "defaultActions"))
    return bool(actions) and all(
        get(a, "type") == "redirect" and get(a, "redirect", "protocol") == "HTTPS" for a in actions
    )


@rule(
    id="NET-09",
    name="alb-listeners-https",
    description=(
        "ALB listeners serve HTTPS with a TLS 1.2+ policy; HTTP listeners only redirect to HTTPS."
    ),
    rationale=(
        "Credentials and prompts must never cross the internet in clear text or over TLS 1.0/1.1."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Use protocol HTTPS with ssl_policy ELBSecurityPolicy-TLS13-1-2-2021-06 and make the HTTP "
        "listener's only default action a redirect with protocol HTTPS."
    ),
    references=("CKV_AWS_2", "CKV_AWS_103", "CKV2_AWS_20", "awsguard albHttpToHttpsRedirection"),
    resource_types=LISTENERS,
)
def alb_listeners_https(args: ResourceValidationArgs, report: Reporter) -> None:
    protocol = str(get(args.props, "protocol", default="HTTP")).upper()
    if protocol == "HTTP" and not _redirects_to_https(args.props):
        report.violation("HTTP listener forwards traffic instead of redirecting to HTTPS")
    if protocol == "HTTPS":
        policy = get(args.props, "sslPolicy")
        if policy is None or policy in WEAK_TLS_POLICIES:
            report.violation(f"HTTPS listener ssl_policy {policy!r} allows TLS below 1.2")


@rule(
    id="NET-10",
    name="alb-hardening",
    description=(
        "ALBs drop invalid headers and mitigate desync; production ALBs log access and resist "
        "deletion."
    ),
    rationale=(
        "Header smuggling reaches the gateway through lax ALBs; logs and deletion protection serve"
        " forensics and uptime."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set drop_invalid_header_fields=True and desync_mitigation_mode defensive/strictest; in "
        "production enable access_logs (to the access-log bucket) and enable_deletion_protection."
    ),
    references=("CKV_AWS_91", "CKV_AWS_131", "CKV_AWS_150", "CKV_AWS_328", "AwsSolutions-ELB2"),
    resource_types=LOAD_BALANCERS,
)
def alb_hardening(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    if get(props, "loadBalancerType", default="application") != "application":
        report.not_applicable("not an application load balancer")
        return
    if not truthy(get(props, "dropInvalidHeaderFields")):
        report.violation("drop_invalid_header_fields is not enabled")
    # Missing means the provider default, "defensive".
    if get(props, "desyncMitigationMode", default="defensive") not in SAFE_DESYNC_MODES:
        report.violation("desync_mitigation_mode is 'monitor'")
    if not truthy(get(props, "accessLogs", "enabled")):
        report.violation("access logs are disabled", production_only=True)
    if not truthy(get(props, "enableDeletionProtection")):
        report.violation("deletion protection is disabled", production_only=True)
