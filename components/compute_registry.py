"""ECR repository of the gateway image: immutable tags, scanned, KMS-encrypted, pruned."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws


def lifecycle_policy(*, keep_releases: int = 50, untagged_days: int = 7) -> dict[str, Any]:
    """Expire untagged layers after ``untagged_days``; keep the newest ``keep_releases``."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"expire untagged images after {untagged_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_days,
                },
                "action": {"type": "expire"},
            },
            {
                # "any" must be the last rule; rollbacks need the recent releases kept.
                "rulePriority": 2,
                "description": f"keep the newest {keep_releases} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_releases,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def create_repository(
    name: str,
    *,
    kms_key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.ecr.Repository:
    """The gateway repository and its lifecycle policy."""
    repository = aws.ecr.Repository(
        f"{name}-gateway-repo",
        name=f"{name}-gateway",
        # A tag always means the same bytes: deployments and rollbacks are reproducible.
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=True
        ),
        encryption_configurations=[
            aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=kms_key_arn
            )
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.ecr.LifecyclePolicy(
        f"{name}-gateway-repo-lifecycle",
        repository=repository.name,
        policy=json.dumps(lifecycle_policy(), sort_keys=True),
        opts=pulumi.ResourceOptions(parent=repository),
    )
    return repository
