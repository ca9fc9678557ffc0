"""CI/CD settings: GitHub Actions OIDC roles that deploy and preview this stack."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from components.config.base import ConfigSection

_REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
# The sub claim suffixes GitHub issues: a branch or tag ref, an environment, pull_request.
_SUBJECT = re.compile(
    r"ref:refs/(heads|tags)/[A-Za-z0-9._/-]+|environment:[A-Za-z0-9._-]+|pull_request"
)


class CicdConfig(ConfigSection):
    """Who may deploy (and preview) this stack from GitHub Actions, through OIDC."""

    cicd_enabled: bool = Field(
        default=False,
        alias="cicdEnabled",
        description="Create the GitHub Actions OIDC deploy and preview roles for this stack.",
    )
    github_repository: str = Field(
        default="",
        alias="githubRepository",
        description="GitHub repository (owner/name) whose workflows may assume the roles.",
    )
    github_deploy_subjects: tuple[str, ...] = Field(
        default=("ref:refs/heads/main",),
        alias="githubDeploySubjects",
        description=(
            "OIDC sub claims (after repo:<owner>/<name>:) allowed to deploy, e.g. "
            "ref:refs/heads/main or environment:production; no wildcards."
        ),
    )
    github_preview_subjects: tuple[str, ...] = Field(
        default=("pull_request", "ref:refs/heads/main"),
        alias="githubPreviewSubjects",
        description="OIDC sub claims allowed the read-only preview role (PR previews, drift).",
    )
    github_oidc_provider_arn: str = Field(
        default="",
        alias="githubOidcProviderArn",
        description=(
            "ARN of an existing token.actions.githubusercontent.com OIDC provider (one per "
            "account); empty creates it in this stack."
        ),
    )
    deploy_policy_arns: tuple[str, ...] = Field(
        default=(),
        alias="cicdDeployPolicyArns",
        description=(
            "Customer-managed IAM policy ARNs granting the deploy role what `pulumi up` needs; "
            "the policy pack rejects AdministratorAccess/PowerUserAccess."
        ),
    )

    @field_validator("github_deploy_subjects", "github_preview_subjects")
    @classmethod
    def _exact_subjects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for subject in value:
            if not _SUBJECT.fullmatch(subject):
                raise ValueError(
                    f"{subject!r} is not an exact OIDC subject; use ref:refs/heads/<branch>, "
                    "ref:refs/tags/<tag>, environment:<name> or pull_request (no wildcards)"
                )
        return value

    @model_validator(mode="after")
    def _repository_when_enabled(self) -> CicdConfig:
        if self.cicd_enabled and not _REPOSITORY.fullmatch(self.github_repository):
            raise ValueError(
                "githubRepository: must be <owner>/<name> of the GitHub repository when "
                "cicdEnabled is true"
            )
        if self.cicd_enabled and not self.github_deploy_subjects:
            raise ValueError("githubDeploySubjects: list at least one subject that may deploy")
        return self
