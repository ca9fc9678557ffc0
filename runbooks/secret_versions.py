"""Secrets Manager staging labels: AWSPENDING -> AWSCURRENT, with AWSPREVIOUS kept.

AWS moves AWSPREVIOUS to the old version automatically when AWSCURRENT moves, which is
what keeps the previous value recoverable.
"""

from __future__ import annotations

import uuid
from typing import Any

from runbooks.aws import AwsSession
from runbooks.errors import AwsOperationError

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"


def stage_versions(aws: AwsSession, secret_id: str) -> dict[str, str]:
    """Staging label -> version id."""
    described = aws.call(
        "secretsmanager", "describe_secret", resource=secret_id, SecretId=secret_id
    )
    labels: dict[str, str] = {}
    for version_id, stages in (described.get("VersionIdsToStages") or {}).items():
        for stage in stages:
            labels[stage] = version_id
    return labels


def describe(aws: AwsSession, secret_id: str) -> dict[str, Any]:
    """The DescribeSecret response."""
    return aws.call("secretsmanager", "describe_secret", resource=secret_id, SecretId=secret_id)


def get_value(aws: AwsSession, secret_id: str, *, stage: str = CURRENT) -> str | None:
    """The string value carrying ``stage``, or None when no version has it."""
    try:
        response = aws.call(
            "secretsmanager",
            "get_secret_value",
            resource=f"{secret_id} ({stage})",
            SecretId=secret_id,
            VersionStage=stage,
        )
    except AwsOperationError as exc:
        if exc.code == "ResourceNotFoundException" and stage != CURRENT:
            return None
        if exc.code == "ResourceNotFoundException" and _secret_exists(aws, secret_id):
            return None
        raise
    return str(response["SecretString"])


def _secret_exists(aws: AwsSession, secret_id: str) -> bool:
    try:
        describe(aws, secret_id)
    except AwsOperationError as exc:
        if exc.code == "ResourceNotFoundException":
            return False
        raise
    return True


def pending_version(aws: AwsSession, secret_id: str) -> str | None:
    """The version labelled AWSPENDING that is not also AWSCURRENT (a rotation in flight)."""
    labels = stage_versions(aws, secret_id)
    pending = labels.get(PENDING)
    return pending if pending and pending != labels.get(CURRENT) else None


def put_pending(aws: AwsSession, secret_id: str, value: str) -> str:
    """Store ``value`` as a new version labelled AWSPENDING only; return its version id."""
    response = aws.call(
        "secretsmanager",
        "put_secret_value",
        resource=secret_id,
        SecretId=secret_id,
        ClientRequestToken=str(uuid.uuid4()),
        SecretString=value,
        VersionStages=[PENDING],
    )
    return str(response["VersionId"])


def put_current(aws: AwsSession, secret_id: str, value: str) -> str:
    """Store ``value`` as the new AWSCURRENT version (the old one becomes AWSPREVIOUS).

    Staged then promoted, like a rotation, so the label move is explicit and a failure
    between the two leaves the old value current.
    """
    version_id = put_pending(aws, secret_id, value)
    promote(aws, secret_id, version_id)
    return version_id


def promote(aws: AwsSession, secret_id: str, version_id: str) -> None:
    """Move AWSCURRENT to ``version_id`` and drop its AWSPENDING label (idempotent)."""
    labels = stage_versions(aws, secret_id)
    current = labels.get(CURRENT)
    if current != version_id:
        params: dict[str, Any] = {"MoveToVersionId": version_id}
        if current:
            params["RemoveFromVersionId"] = current
        aws.call(
            "secretsmanager",
            "update_secret_version_stage",
            resource=secret_id,
            SecretId=secret_id,
            VersionStage=CURRENT,
            **params,
        )
    if labels.get(PENDING) == version_id:
        drop_pending(aws, secret_id)


def drop_pending(aws: AwsSession, secret_id: str) -> None:
    """Remove the AWSPENDING label wherever it is (a no-op when absent)."""
    pending = stage_versions(aws, secret_id).get(PENDING)
    if pending:
        aws.call(
            "secretsmanager",
            "update_secret_version_stage",
            resource=secret_id,
            SecretId=secret_id,
            VersionStage=PENDING,
            RemoveFromVersionId=pending,
        )
