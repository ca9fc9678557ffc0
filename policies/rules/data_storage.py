"""Storage and messaging rules: S3, SQS, SNS, KMS, Secrets Manager and Parameter Store."""

from __future__ import annotations

import re

from pulumi_policy import PolicyResource, Severity, StackValidationArgs

from policies.framework import Enforcement, Reporter, rule
from policies.props import (
    as_list,
    denies_insecure_transport,
    get,
    is_public_allow,
    json_doc,
    statements,
    tags,
    truthy,
)
from policies.topology import StackIndex

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SSM_PARAMETER = "aws:ssm/parameter:Parameter"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ACCESS_LOGS_PURPOSE = "access-logs"
# Secrets Manager can rotate database credentials with its managed rotation templates.
ROTATABLE_SECRET = re.compile(r"(database|rds|aurora|postgres|db-credentials)", re.I)
SECRET_PARAMETER = re.compile(r"(password|secret|token|api-?key|private-?key)", re.I)
# A name segment saying the value points at a secret (".../secret-arn-openai"),
# rather than holding one.
REFERENCE_PARAMETER = re.compile(r"(^|[-_/])(arn|id|name|url|host|port)([-_/]|$)", re.I)


def _purpose(resource: PolicyResource) -> str:
    return str(tags(resource.props).get("purpose", ""))


def _bucket_encryption(index: StackIndex, bucket: PolicyResource) -> list[str]:
    return [
        str(get(r, "applyServerSideEncryptionByDefault", "sseAlgorithm"))
        for config in index.referrers(bucket, "bucket", BUCKET_SSE)
        for r in as_list(get(config.props, "rules"))
    ]


def _check_bucket(index: StackIndex, bucket: PolicyResource, report: Reporter) -> None:
    blocks = index.referrers(bucket, "bucket", PUBLIC_ACCESS_BLOCK)
    if not any(all(truthy(get(b.props, f)) for f in PAB_FLAGS) for b in blocks):
        report.violation(
            f"bucket {bucket.name} lacks a public-access block with all four flags", bucket.urn
        )
    documents = [
        json_doc(get(p.props, "policy"), where="policy")
        for p in index.referrers(bucket, "bucket", BUCKET_POLICY)
    ]
    if not any(denies_insecure_transport(d) for d in documents):
        report.violation(f"bucket {bucket.name} policy does not deny non-TLS requests", bucket.urn)
    if any(is_public_allow(s) for d in documents for s in statements(d)):
        report.violation(f"bucket {bucket.name} policy allows public access", bucket.urn)
    algorithms = _bucket_encryption(index, bucket)
    exempt = _purpose(bucket) == ACCESS_LOGS_PURPOSE and "AES256" in algorithms
    if not exempt and not any(a in KMS_ALGORITHMS for a in algorithms):
        report.violation(
            f"bucket {bucket.name} is not encrypted with SSE-KMS (found {algorithms})", bucket.urn
        )
    versioning = index.referrers(bucket, "bucket", BUCKET_VERSIONING)
    if not any(get(v.props, "versioningConfiguration", "status") == "Enabled" for v in versioning):
        report.violation(f"bucket {bucket.name} has no versioning", bucket.urn)


@rule(
    id="DATA-09",
    name="s3-bucket-secure",
    description=(
        "Every bucket has all four public-access-block flags, a TLS-only policy, SSE-KMS and "
        "versioning."
    ),
    rationale=(
        "Archived prompts and responses are customer data; one missing control makes them public "
        "or tamperable."
    ),
    severity=Severity.CRITICAL,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Add BucketPublicAccessBlock (all four True), a BucketPolicy denying "
        "aws:SecureTransport=false, BucketServerSideEncryptionConfiguration with aws:kms, and "
        "BucketVersioning Enabled. Access-log buckets tagged purpose=access-logs may use AES256 "
        "(log delivery cannot write SSE-KMS)."
    ),
    references=(
        "CKV2_AWS_6",
        "CKV_AWS_21",
        "CKV_AWS_145",
        "AwsSolutions-S2",
        "AwsSolutions-S10",
        "CIS 2.1.1",
        "CIS 2.1.4",
    ),
    resource_types=(BUCKET, PUBLIC_ACCESS_BLOCK, BUCKET_POLICY, BUCKET_SSE, BUCKET_VERSIONING),
    scope="stack",
)
def s3_bucket_secure(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for bucket in index.of_type(BUCKET):
        with report.deciding(bucket.urn):
            _check_bucket(index, bucket, report)


@rule(
    id="DATA-10",
    name="s3-bucket-logging-and-lifecycle",
    description=(
        "Buckets log access in production, and archive buckets expire or transition objects with a"
        " lifecycle rule."
    ),
    rationale=(
        "Access logs answer who read the archive; lifecycle rules cap cost and retention of "
        "customer data."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation="Add aws.s3.BucketLogging to the access-log bucket (production) and an "
    "aws.s3.BucketLifecycleConfiguration on buckets tagged purpose=archive.",
    references=("CKV_AWS_18", "AwsSolutions-S1"),
    resource_types=(BUCKET, BUCKET_LOGGING, BUCKET_LIFECYCLE),
    scope="stack",
)
def s3_bucket_logging_and_lifecycle(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for bucket in index.of_type(BUCKET):
        with report.deciding(bucket.urn):
            purpose = _purpose(bucket)
            if purpose != ACCESS_LOGS_PURPOSE and not index.referrers(
                bucket, "bucket", BUCKET_LOGGING
            ):
                report.violation(
                    f"bucket {bucket.name} has no access logging", bucket.urn, production_only=True
                )
            archive = purpose == "archive" or "archive" in bucket.name
            lifecycle = index.referrers(bucket, "bucket", BUCKET_LIFECYCLE)
            if archive and not lifecycle:
                report.violation(f"archive bucket {bucket.name} has no lifecycle rule", bucket.urn)


def _messaging_policies(index: StackIndex, resource: PolicyResource) -> list[object]:
    link, policy_type = (
        ("queueUrl", QUEUE_POLICY) if resource.resource_type == QUEUE else ("arn", TOPIC_POLICY)
    )
    documents = [
        json_doc(get(p.props, "policy"), where="policy")
        for p in index.referrers(resource, link, policy_type)
    ]
    inline = json_doc(get(resource.props, "policy"), where="policy")
    return [*documents, inline] if inline is not None else documents


def _check_messaging(index: StackIndex, resource: PolicyResource, report: Reporter) -> None:
    props, kind = resource.props, "queue" if resource.resource_type == QUEUE else "topic"
    if get(props, "kmsMasterKeyId") is None:
        sqs_managed = kind == "queue" and get(props, "sqsManagedSseEnabled") is not False
        report.violation(
            f"{kind} {resource.name} is not encrypted with KMS",
            resource.urn,
            production_only=sqs_managed,
        )
    documents = _messaging_policies(index, resource)
    if any(is_public_allow(s) for d in documents for s in statements(d)):
        report.violation(f"{kind} {resource.name} policy allows public access", resource.urn)
    if not any(denies_insecure_transport(d) for d in documents):
        report.violation(
            f"{kind} {resource.name} policy does not deny non-TLS requests",
            resource.urn,
            production_only=True,
        )


@rule(
    id="DATA-11",
    name="messaging-encrypted-and-private",
    description=(
        "Queues and topics are encrypted (KMS in production), deny non-TLS access in production "
        "and never allow public principals."
    ),
    rationale=(
        "Jobs and alerts carry tenant ids and request metadata; a public queue lets anyone inject "
        "jobs."
    ),
    severity=Severity.HIGH,
    enforcement=Enforcement.MANDATORY,
    remediation="Set kms_master_key_id=<platform key>; attach a QueuePolicy/TopicPolicy denying "
    "aws:SecureTransport=false with no '*' Allow.",
    references=(
        "CKV_AWS_26",
        "CKV_AWS_27",
        "AwsSolutions-SQS2",
        "AwsSolutions-SQS4",
        "AwsSolutions-SNS3",
    ),
    resource_types=(QUEUE, TOPIC, QUEUE_POLICY, TOPIC_POLICY),
    scope="stack",
)
def messaging_encrypted_and_private(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for resource in index.of_type(QUEUE, TOPIC):
        with report.deciding(resource.urn):
            _check_messaging(index, resource, report)


@rule(
    id="DATA-12",
    name="kms-key-rotation-and-policy",
    description=(
        "KMS keys rotate yearly and carry an explicit key policy without a bare ' * ' principal."
    ),
    rationale=(
        "Rotation limits the blast radius of a leaked key; an implicit or ' * ' policy hands it to "
        "the account or the world."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set enable_key_rotation=True and a policy (or aws.kms.KeyPolicy) whose statements name "
        "principals or restrict ' * ' with conditions."
    ),
    references=("CKV_AWS_7", "CKV_AWS_33", "AwsSolutions-KMS5", "CIS 3.6"),
    resource_types=(KMS_KEY, KMS_KEY_POLICY),
    scope="stack",
)
def kms_key_rotation_and_policy(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for key in index.of_type(KMS_KEY):
        with report.deciding(key.urn):
            if not truthy(get(key.props, "enableKeyRotation")):
                report.violation(f"key {key.name} does not rotate", key.urn)
            documents = [json_doc(get(key.props, "policy"), where="policy")] + [
                json_doc(get(p.props, "policy"), where="policy")
                for p in index.referrers(key, "keyId", KMS_KEY_POLICY)
            ]
            documents = [d for d in documents if d is not None]
            if not documents:
                report.violation(f"key {key.name} has no explicit key policy", key.urn)
            if any(is_public_allow(s) for d in documents for s in statements(d)):
                report.violation(
                    f"key {key.name} policy allows principal '*' without conditions", key.urn
                )


def _check_secret(index: StackIndex, secret: PolicyResource, report: Reporter) -> None:
    if get(secret.props, "kmsKeyId") is None:
        report.violation(f"secret {secret.name} uses the AWS-managed key", secret.urn)
    label = f"{secret.name} {get(secret.props, 'name', default='')}"
    rotatable = ROTATABLE_SECRET.search(label) or tags(secret.props).get("rotation") == "required"
    if rotatable and not index.referrers(secret, "secretId", SECRET_ROTATION):
        report.violation(
            f"secret {secret.name} holds rotatable credentials but has no rotation",
            secret.urn,
            production_only=True,
        )


def _check_parameter(parameter: PolicyResource, report: Reporter) -> None:
    name = str(get(parameter.props, "name", default=parameter.name))
    kind = get(parameter.props, "type")
    looks_secret = SECRET_PARAMETER.search(name) and not REFERENCE_PARAMETER.search(name)
    if looks_secret and kind != "SecureString":
        report.violation(f"parameter {name} looks secret but is a {kind}", parameter.urn)
    if kind == "SecureString" and get(parameter.props, "keyId") is None:
        report.violation(
            f"SecureString {name} uses the AWS-managed key", parameter.urn, production_only=True
        )


@rule(
    id="DATA-13",
    name="secrets-kms-and-rotation",
    description=(
        "Secrets use a customer KMS key, rotatable credentials rotate, and secret parameters are "
        "SecureStrings."
    ),
    rationale=(
        "Customer keys keep secrets revocable; plain String parameters are readable by any "
        "ssm:GetParameter caller."
    ),
    severity=Severity.MEDIUM,
    enforcement=Enforcement.MANDATORY,
    remediation=(
        "Set kms_key_id on secretsmanager.Secret, add a SecretRotation for database credentials, "
        "and store secret values in SSM as SecureString with key_id."
    ),
    references=("CKV_AWS_149", "AwsSolutions-SMG4"),
    resource_types=(SECRET, SECRET_ROTATION, SSM_PARAMETER),
    scope="stack",
)
def secrets_kms_and_rotation(args: StackValidationArgs, report: Reporter) -> None:
    index = StackIndex(args.resources)
    for secret in index.of_type(SECRET):
        with report.deciding(secret.urn):
            _check_secret(index, secret, report)
    for parameter in index.of_type(SSM_PARAMETER):
        with report.deciding(parameter.urn):
            _check_parameter(parameter, report)
