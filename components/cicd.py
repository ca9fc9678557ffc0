"""CI/CD access: GitHub Actions OIDC and the roles workflows assume (no long-lived keys).

Two roles per stack. The deploy role runs `pulumi up` and trusts only the exact OIDC
subjects in ``githubDeploySubjects`` (main for dev, the approved ``production``
environment for prod). The preview role is read-only and also trusts pull requests, for
PR previews and the nightly drift check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config.cicd import CicdConfig

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"
READ_ONLY_POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def oidc_subjects(repository: str, suffixes: Sequence[str]) -> list[str]:
    """Full ``sub`` claims (``repo:<owner>/<name>:<suffix>``), in a stable order."""
    return sorted(f"repo:{repository}:{suffix}" for suffix in suffixes)


def github_trust_policy(provider_arn: str, subjects: Sequence[str]) -> dict[str, Any]:
    """Trust exactly these subjects of this repository, with the STS audience."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                # StringEquals, not StringLike: no branch, fork or environment can match
                # by pattern.
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": list(subjects),
                    }
                },
            }
        ],
    }


@dataclass
class CicdArgs:
    """Inputs of the CI/CD layer."""

    config: CicdConfig
    tags: dict[str, str]


class Cicd(pulumi.ComponentResource):
    """The GitHub OIDC provider (unless shared) and the deploy and preview roles."""

    oidc_provider_arn: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str]
    preview_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CicdArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:cicd:Cicd", name, None, opts)
        self._args = args
        self.oidc_provider_arn = self._create_provider(name)
        self.deploy_role_arn = self._create_deploy_role(name)
        self.preview_role_arn = self._create_preview_role(name)
        self.register_outputs(
            {
                "oidc_provider_arn": self.oidc_provider_arn,
                "deploy_role_arn": self.deploy_role_arn,
                "preview_role_arn": self.preview_role_arn,
            }
        )

    def _create_provider(self, name: str) -> pulumi.Output[str]:
        config = self._args.config
        if config.github_oidc_provider_arn:
            # IAM allows one provider per URL and account: stacks sharing an account reuse it.
            return pulumi.Output.from_input(config.github_oidc_provider_arn)
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-github-oidc",
            url=GITHUB_OIDC_URL,
            client_id_lists=[STS_AUDIENCE],
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return provider.arn

    def _role(self, name: str, *, description: str, subjects: Sequence[str]) -> aws.iam.Role:
        full = oidc_subjects(self._args.config.github_repository, subjects)
        return aws.iam.Role(
            name,
            description=description,
            assume_role_policy=self.oidc_provider_arn.apply(
                lambda arn: json.dumps(github_trust_policy(arn, full), sort_keys=True)
            ),
            max_session_duration=3600,
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_deploy_role(self, name: str) -> pulumi.Output[str]:
        config = self._args.config
        role = self._role(
            f"{name}-github-deploy",
            description=f"GitHub Actions deploys of this stack from {config.github_repository}",
            subjects=config.github_deploy_subjects,
        )
        for index, policy_arn in enumerate(config.deploy_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{name}-github-deploy-policy-{index}",
                role=role.name,
                policy_arn=policy_arn,
                opts=pulumi.ResourceOptions(parent=role),
            )
        return role.arn

    def _create_preview_role(self, name: str) -> pulumi.Output[str]:
        config = self._args.config
        role = self._role(
            f"{name}-github-preview",
            description=f"GitHub Actions previews and drift checks from {config.github_repository}",
            subjects=config.github_preview_subjects,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-github-preview-read-only",
            role=role.name,
            policy_arn=READ_ONLY_POLICY_ARN,
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role.arn
