"""Serverless rules: Lambda settings, the SQS event source, concurrency and invocation."""

from __future__ import annotations

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from policies.framework import Enforcement, Reporter, rule
from policies.props import as_list, get, json_doc, num, show
from policies.topology import StackIndex

LAMBDA_FUNCTION = "aws:lambda/function:Function"
EVENT_SOURCE = "aws:lambda/eventSourceMapping:EventSourceMapping"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
QUEUE = "aws:sqs/queue:Queue"
REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy"
SUPPORTED_RUNTIMES = (
    "python3.11",
    "python3.12",
    "python3.13",
    "nodejs20.x",
    "nodejs22.x",
    "java21",
    "dotnet8",
    "ruby3.3",
    "ruby3.4",
    "provided.al2023",
)
DATA_ENV_PREFIXES = ("DATABASE_", "REDIS_")
DEFAULT_LAMBDA_TIMEOUT = 3.0
DEFAULT_VISIBILITY_TIMEOUT = 30.0


@rule(
    id="CMP-06",
    name="lambda-function-settings",
    description=(
        "Lambda functions use a supported runtime, explicit memory and timeout, tracing in "
        "production, and a VPC when they reach the data tier."
    ),
    rationale=(
        "Deprecated runtimes stop getting patches; defaults (128 MB, 3 s) fail under load; the "
        "database is only reachable inside the VPC."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation="Set runtime (python3.12+), memory_size, timeout, tracing_config mode='Active' and "
    "vpc_config with private subnets when DATABASE_*/REDIS_* are in the environment.",
    references=("CKV_AWS_50", "CKV_AWS_117", "CKV_AWS_363", "AwsSolutions-L1"),
    resource_types=(LAMBDA_FUNCTION,),
)
def lambda_function_settings(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    package = get(props, "packageType", default="Zip")
    runtime = get(props, "runtime")
    if package == "Zip" and runtime not in SUPPORTED_RUNTIMES:
        report.violation(f"runtime {runtime!r} is not a supported runtime")
    for key in ("memorySize", "timeout"):
        if get(props, key) is None:
            report.violation(f"{key} is not set explicitly")
    if get(props, "tracingConfig", "mode") != "Active":
        report.violation("X-Ray tracing is not Active", production_only=True)
    variables = get(props, "environment", "variables", default={})
    touches_data = any(str(k).startswith(DATA_ENV_PREFIXES) for k in variables)
    if touches_data and not as_list(get(props, "vpcConfig", "subnetIds")):
        report.violation("function reaches the database/cache but has no vpc_config subnets")


def _queue_has_dlq(index: StackIndex, queue: PolicyResource) -> bool:
    redrive = json_doc(get(queue.props, "redrivePolicy"), where="redrivePolicy")
    if get(redrive, "deadLetterTargetArn"):
        return True
    return bool(index.referrers(queue, "queueUrl", REDRIVE_POLICY))


def _check_mapping(index: StackIndex, mapping: PolicyResource, report: Reporter) -> None:
    props = mapping.props
    if "ReportBatchItemFailures" not in [
        str(t) for t in as_list(get(props, "functionResponseTypes"))
    ]:
        report.violation("event source does not report partial batch failures", mapping.urn)
    if num(get(props, "scalingConfig", "maximumConcurrency")) is None:
        report.violation("event source has no scaling_config.maximum_concurrency", mapping.urn)
    functions = index.linked(mapping, "functionName", LAMBDA_FUNCTION)
    for queue in index.linked(mapping, "eventSourceArn", QUEUE):
        if not _queue_has_dlq(index, queue):
            report.violation(f"source queue {queue.name} has no dead-letter queue", mapping.urn)
        visibility = num(get(queue.props, "visibilityTimeoutSeconds")) or DEFAULT_VISIBILITY_TIMEOUT
        for function in functions:
            timeout = num(get(function.props, "timeout")) or DEFAULT_LAMBDA_TIMEOUT
            if visibility < 6 * timeout:
                report.violation(
                    f"queue {queue.name} visibility {show(visibility)} s < 6 x function "
                    f"{function.name} timeout {show(timeout)} s",
                    mapping.urn,
                )


@rule(
    id="CMP-07",
    name="sqs-event-source-safety",
    description=(
        "SQS event sources report partial batch failures, cap concurrency, drain to a DLQ, and "
        "their queue's visibility timeout is at least six times the function timeout."
    ),
    rationale="Without these a poison message loops forever or a slow batch is delivered twice.",
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set function_response_types=['ReportBatchItemFailures'], scaling_config "
        "maximum_concurrency, a redrive_policy on the queue, and visibility_timeout_seconds >= 6 x"
        " timeout."
    ),
    references=("AwsSolutions-SQS3", "cdk-nag LambdaEventSourceSQSVisibilityTimeout"),
    resource_types=(EVENT_SOURCE, QUEUE, LAMBDA_FUNCTION),
    scope="stack",
)
def sqs_event_source_safety(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    mappings = [m for m in index.of_type(EVENT_SOURCE) if index.linked(m, "eventSourceArn", QUEUE)]
    if not mappings:
        report.not_applicable("no Lambda event source reads from an SQS queue")
    for mapping in mappings:
        with report.deciding(mapping.urn):
            _check_mapping(index, mapping, report)


@rule(
    id="CMP-08",
    name="lambda-concurrency-bounded",
    description=(
        "In production every Lambda function has reserved concurrency or an event-source maximum "
        "concurrency."
    ),
    rationale=(
        "Unbounded concurrency can exhaust database connections and the account's Lambda quota."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.PRODUCTION,
    remediation=(
        "Set reserved_concurrent_executions (workerReservedConcurrency) or the event source's "
        "scaling_config.maximum_concurrency."
    ),
    references=("CKV_AWS_115",),
    resource_types=(LAMBDA_FUNCTION, EVENT_SOURCE),
    scope="stack",
)
def lambda_concurrency_bounded(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for function in index.of_type(LAMBDA_FUNCTION):
        with report.deciding(function.urn):
            reserved = num(get(function.props, "reservedConcurrentExecutions"))
            capped = any(
                num(get(m.props, "scalingConfig", "maximumConcurrency")) is not None
                for m in index.referrers(function, "functionName", EVENT_SOURCE)
            )
            if (reserved is None or reserved < 0) and not capped:
                report.violation(
                    f"function {function.name} has unbounded concurrency", function.urn
                )


@rule(
    id="CMP-09",
    name="lambda-not-publicly-invocable",
    description=(
        "Lambda permissions name a specific principal and source ARN, and function URLs require "
        "IAM auth."
    ),
    rationale="A '*' principal or an open function URL lets anyone on the internet run the worker.",
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Use a service principal with source_arn (and source_account) on aws.lambda_.Permission; "
        "set authorization_type='AWS_IAM' on function URLs."
    ),
    references=("CKV_AWS_301", "CKV_AWS_364"),
    resource_types=(PERMISSION, FUNCTION_URL),
)
def lambda_not_publicly_invocable(args: ResourceValidationArgs, report: Reporter) -> None:
    props = args.props
    if args.resource_type == FUNCTION_URL:
        if get(props, "authorizationType") != "AWS_IAM":
            report.violation("function URL does not require AWS_IAM auth")
        return
    principal = str(get(props, "principal", default=""))
    if principal == "*":
        report.violation("permission grants invoke to principal '*'")
    elif principal.endswith(".amazonaws.com") and get(props, "sourceArn") is None:
        report.violation(f"permission for {principal} has no source_arn")
