"""Container rules: ECS cluster, service, task definitions and ECR repositories."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from policies.framework import Enforcement, Reporter, rule
from policies.props import as_list, get, json_doc, num, show, truthy
from policies.topology import StackIndex

ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
LAMBDA_FUNCTION = "aws:lambda/function:Function"

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)
# Names that carry a reference to a secret rather than the secret itself.
REFERENCE_NAME = re.compile(r"(_ARN|_ID|_NAME|_URL|_PATH|_ISSUER|_AUDIENCE)$", re.I)
SECRET_VALUE = re.compile(
    r"^(sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|xox[bp]-|ghp_[A-Za-z0-9]{20,})"
)
ROOT_USERS = ("root", "0", "0:0")


def secret_looking_env(variables: Any) -> list[str]:
    "''Environment entries that hold a secret in plain text (names or values).''"
    found: list[str] = []
    pairs = (
        [(str(get(v, "name")), get(v, "value")) for v in as_list(variables)]
        if not isinstance(variables, Mapping)
        else [(str(k), variables[k]) for k in variables]
    )
    for name, value in pairs:
        text = "" if value is None else str(value)
        if text.startswith("arn:"):
            continue
        if (SECRET_NAME.search(name) and not REFERENCE_NAME.search(name)) or SECRET_VALUE.match(
            text
        ):
            found.append(name)
    return found


def _containers(props: Any) -> list[Mapping[str, Any]]:
    document = json_doc(get(props, "containerDefinitions"), where="containerDefinitions")
    return [c for c in as_list(document) if isinstance(c, Mapping)]


@rule(
    id="CMP-01",
    name="ecs-container-insights",
    description="ECS clusters have Container Insights enabled.",
    rationale="Per-task CPU, memory and restarts are needed to size and debug the gateway.",
    severity=Severity.LOW,
    enforcement=Enforcement.ADVISORY,
    remediation="Add settings=[ClusterSettingArgs(name='containerInsights', value='enabled')].",
    references=("CKV_AWS_65", "AwsSolutions-ECS4"),
    resource_types=(ECS_CLUSTER,),
)
def ecs_container_insights(args: ResourceValidationArgs, report: Reporter) -> None:
    settings = as_list(get(args.props, "settings"))
    if not any(
        get(s, "name") == "containerInsights" and get(s, "value") in ("enabled", "enhanced")
        for s in settings
    ):
        report.violation("Container Insights is not enabled")


@rule(
    id="CMP-02",
    name="ecs-service-safe-deployment",
    description=(
        "ECS services get no public IP, roll back failed deployments and run two or more tasks in "
        "production."
    ),
    rationale=(
        "Public task IPs bypass the ALB; a circuit breaker stops bad releases; one task is no "
        "redundancy."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Set network_configuration.assign_public_ip=False, deployment_circuit_breaker "
    "enable=True rollback=True, and gatewayDesiredCount >= 2 in production.",
    references=("CKV_AWS_333",),
    resource_types=(ECS_SERVICE,),
)
def ecs_service_safe_deployment(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    if truthy(get(props, "networkConfiguration", "assignPublicIp")):
        report.violation("tasks are assigned public IPs")
    breaker = get(props, "deploymentCircuitBreaker")
    if not (truthy(get(breaker, "enable")) and truthy(get(breaker, "rollback"))):
        report.violation("deployment circuit breaker with rollback is not enabled")
    desired = num(get(props, "desiredCount", default=1))
    if desired is not None and desired < 2:
        report.violation(f"desired count {show(desired)} < 2", production_only=True)


@rule(
    id="CMP-03",
    name="ecs-task-least-privilege",
    description=(
        "Containers are unprivileged, run as non-root on a read-only root filesystem, and the "
        "execution role differs from the task role."
    ),
    rationale=(
        "A compromised container should not own the host, write its own image, or inherit the "
        "pull/secret-read role."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="In each container definition set privileged=false, readonlyRootFilesystem=true, "
    "user='10001'; give the task its own task_role_arn separate from execution_role_arn.",
    references=("CKV_AWS_249", "CKV_AWS_334", "CKV_AWS_335", "CKV_AWS_336"),
    resource_types=(TASK_DEFINITION,),
)
def ecs_task_least_privilege(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    execution, task = get(props, "executionRoleArn"), get(props, "taskRoleArn")
    if execution is not None and execution == task:
        report.violation("execution role and task role are the same role")
    for container in _containers(props):
        name = get(container, "name", default="?")
        if container.get("privileged") is True:
            report.violation(f"container {name} is privileged")
        if container.get("readonlyRootFilesystem") is not True:
            report.violation(f"container {name} has a writable root filesystem")
        if str(container.get("user", "root")) in ROOT_USERS:
            report.violation(f"container {name} runs as root (set 'user')")


@rule(
    id="CMP-04",
    name="no-plaintext-secrets-in-environment",
    description=(
        "Task and function environments hold secret references, never secret values, and "
        "containers log."
    ),
    rationale=(
        "Plain environment values are readable by anyone who can describe the task or function."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Pass secret ARNs (…_SECRET_ARN) or ECS 'secrets' valueFrom references and fetch values at"
        " runtime; give every container a logConfiguration."
    ),
    references=("AwsSolutions-ECS2", "AwsSolutions-ECS7", "CKV_AWS_45"),
    resource_types=(TASK_DEFINITION, LAMBDA_FUNCTION),
)
def no_plaintext_secrets_in_environment(args: ResourceValidationArgs, report: Reporter) -> None:
    if args.resource_type == LAMBDA_FUNCTION:
        leaked = secret_looking_env(get(args.props, "environment", "variables", default={}))
        if leaked:
            report.violation(f"function environment holds secrets in plain text: {leaked}")
        return
    for container in _containers(args.props):
        name = get(container, "name", default="?")
        leaked = secret_looking_env(container.get("environment"))
        if leaked:
            report.violation(f"container {name} environment holds secrets in plain text: {leaked}")
        if not container.get("logConfiguration"):
            report.violation(f"container {name} has no logConfiguration")


@rule(
    id="CMP-05",
    name="ecr-repository-hardening",
    description=(
        "ECR repositories use immutable tags, scan on push, KMS encryption in production and a "
        "lifecycle policy."
    ),
    rationale=(
        "Mutable tags let an image change under a running deployment; unscanned images ship known "
        "CVEs."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set image_tag_mutability='IMMUTABLE', image_scanning_configuration scan_on_push=True, "
        "encryption_configurations KMS, and add an aws.ecr.LifecyclePolicy."
    ),
    references=("CKV_AWS_51", "CKV_AWS_136", "CKV_AWS_163"),
    resource_types=(ECR_REPOSITORY, ECR_LIFECYCLE),
    scope="stack",
)
def ecr_repository_hardening(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for repo in index.of_type(ECR_REPOSITORY):
        with report.deciding(repo.urn):
            props = repo.props
            if get(props, "imageTagMutability", default="MUTABLE") not in (
                "IMMUTABLE",
                "IMMUTABLE_WITH_EXCLUSION",
            ):
                report.violation(f"repository {repo.name} allows mutable tags", repo.urn)
            if not truthy(get(props, "imageScanningConfiguration", "scanOnPush")):
                report.violation(f"repository {repo.name} does not scan on push", repo.urn)
            encryption = as_list(get(props, "encryptionConfigurations"))
            if not any(get(e, "encryptionType") == "KMS" for e in encryption):
                report.violation(
                    f"repository {repo.name} uses AES256, not KMS", repo.urn, production_only=True
                )
            if not index.referrers(repo, "repository", ECR_LIFECYCLE):
                report.violation(f"repository {repo.name} has no lifecycle policy", repo.urn)
