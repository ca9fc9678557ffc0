"""Governance rules: IAM least privilege, trust policies, tags and long-lived credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from policies.framework import Enforcement, Reporter, rule
from policies.props import REQUIRED_TAGS, as_list, get, json_doc, principals, statements, strings
from policies.taggable import is_taggable

ROLE = "aws:iam/role:Role"
POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
USER_TYPES = (
    "aws:iam/user:User",
    "aws:iam/accessKey:AccessKey",
    "aws:iam/userLoginProfile:UserLoginProfile",
)
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
READ_VERBS = (
    "Get",
    "List",
    "Describe",
    "Head",
    "BatchGet",
    "Query",
    "Scan",
    "Lookup",
    "Search",
    "View",
    "StartQuery",
    "StopQuery",
    "FilterLogEvents",
)
# Actions AWS only grants on Resource "*" (no resource-level permissions).
STAR_ONLY_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "cloudwatch:PutMetricData",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


def _is_write(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return not verb.startswith(READ_VERBS) and action not in STAR_ONLY_ACTIONS


def wildcard_problems(document: Any) -> list[str]:
    "''Why an IAM policy document is over-broad (empty when it is scoped).''"
    problems: list[str] = []
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        actions = strings(statement.get("Action"))
        resources = strings(statement.get("Resource"))
        for action in actions:
            if action == "*" or action.endswith(":*"):
                problems.append(f"action {action!r} is a wildcard")
        if "*" in resources and not statement.get("Condition"):
            writes = [a for a in actions if _is_write(a)]
            if writes:
                problems.append(f"write actions {writes} on Resource '*'")
    return problems


def _documents(args: ResourceValidationArgs) -> list[Any]:
    if args.resource_type == ROLE:
        return [
            json_doc(get(p, "policy"), where="inlinePolicies")
            for p in as_list(get(args.props, "inlinePolicies"))
        ]
    return [json_doc(get(args.props, "policy"), where="policy")]


@rule(
    id="GOV-01",
    name="iam-least-privilege",
    description=(
        "IAM policies grant no '*' actions, no writes on Resource '*' and no administrator "
        "policies."
    ),
    rationale="Wildcards turn any compromised task or function into an account takeover.",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "List the exact actions and scope Resource to the ARNs the workload uses (queue, bucket, "
        "secrets, key); never attach AdministratorAccess/PowerUserAccess."
    ),
    references=("CKV_AWS_62", "CKV_AWS_63", "CKV_AWS_355", "AwsSolutions-IAM5"),
    resource_types=(ROLE, *POLICY_TYPES, *ATTACHMENTS),
)
def iam_least_privilege(args: ResourceValidationArgs, report: Reporter) -> None:
    if args.resource_type in ATTACHMENTS:
        arn = str(get(args.props, "policyArn", default=""))
        if arn.rsplit("/", 1)[-1] in ADMIN_POLICIES:
            report.violation(f"attaches administrator policy {arn}")
        return
    if args.resource_type == ROLE:
        for arn in strings(get(args.props, "managedPolicyArns")):
            if arn.rsplit("/", 1)[-1] in ADMIN_POLICIES:
                report.violation(f"attaches administrator policy {arn}")
    for document in _documents(args):
        for problem in wildcard_problems(document):
            report.violation(problem)


def _trust_problems(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    condition = statement.get("Condition") or {}
    if "*" in principals(statement):
        return ["anyone may assume the role (principal '*')"]
    federated = strings(get(principal, "Federated")) if isinstance(principal, Mapping) else []
    if federated and not any(str(key).endswith(":sub") for op in condition.values() for key in op):
        return [f"federated principal {federated} without a ':sub' condition"]
    aws_principals = strings(get(principal, "AWS")) if isinstance(principal, Mapping) else []
    if any(p.endswith(":root") for p in aws_principals) and not condition:
        return [f"whole-account principal {aws_principals} without conditions"]
    return []


@rule(
    id="GOV-02",
    name="iam-trust-scoped",
    description=(
        "Role trust policies name the service or the OIDC subject they serve, never '*' or a bare "
        "account."
    ),
    rationale="An over-broad trust policy lets other workloads or accounts become the role.",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Trust a service principal (ecs-tasks.amazonaws.com, lambda.amazonaws.com) or an OIDC "
        "provider with a StringEquals '<issuer>:sub' condition."
    ),
    references=("CKV_AWS_60", "CKV_AWS_61"),
    resource_types=(ROLE,),
)
def iam_trust_scoped(args: ResourceValidationArgs, report: Reporter) -> None:
    document = json_doc(get(args.props, "assumeRolePolicy"), where="assumeRolePolicy")
    for statement in statements(document):
        if statement.get("Effect") == "Allow":
            for problem in _trust_problems(statement):
                report.violation(problem)


@rule(
    id="GOV-03",
    name="required-tags",
    description=(
        "Every taggable resource carries the environment, service, owner and cost-center tags."
    ),
    rationale=(
        "Tags drive cost allocation, ownership during incidents and this pack's production "
        "detection."
    ),
    severity=Severity.LOW,
    enforcement=Enforcement.PRODUCTION,
    remediation="Pass tags=required_tags(...) (components/naming.py) to every resource.",
    references=(),
    resource_types=("*",),
)
def required_tags(args: ResourceValidationArgs, report: Reporter) -> None:
    if not is_taggable(args.resource_type):
        return
    present = get(args.props, "tags", default={})
    missing = [t for t in REQUIRED_TAGS if not isinstance(present, Mapping) or t not in present]
    if missing:
        report.violation(f"missing tags {missing}")


@rule(
    id="GOV-04",
    name="no-iam-users",
    description=(
        "The stack creates no IAM users, login profiles or access keys; workloads use roles."
    ),
    rationale="Long-lived access keys leak; roles hand out short-lived credentials.",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Replace the user with a role assumed by the workload (task role, Lambda role or OIDC)."
    ),
    references=("CIS 1.14", "CKV_AWS_273", "AwsSolutions-IAM4 (analogue)"),
    resource_types=USER_TYPES,
)
def no_iam_users(args: ResourceValidationArgs, report: Reporter) -> None:
    report.violation(f"{args.resource_type.rsplit(':', 1)[-1]} creates long-lived IAM credentials")
