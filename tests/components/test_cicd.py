"""CI/CD layer: GitHub OIDC provider, deploy and preview roles pinned to exact subjects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agatha.plan.graph import ResourceGraph
from agatha.plan.mock_runtime import evaluate_program
from components.cicd import (
    GITHUB_OIDC_HOST,
    READ_ONLY_POLICY_ARN,
    Cicd,
    CicdArgs,
    github_trust_policy,
    oidc_subjects,
)
from components.config.base import StackConfigError, read_section
from components.config.cicd import CicdConfig

REPO = "agatha-ai/agatha-platform"
NAME = "agatha-test"
TAGS = {"layer": "cicd"}
ROLE = "aws:iam/role:Role"


def _config(**overrides: Any) -> CicdConfig:
    values: dict[str, Any] = {"cicd_enabled": True, "github_repository": REPO}
    return CicdConfig.model_validate(values | overrides)


def _plan(config: CicdConfig) -> ResourceGraph:
    def program() -> None:
        Cicd(NAME, CicdArgs(config=config, tags=TAGS))

    return evaluate_program(program)


def _trust(graph: ResourceGraph, name: str) -> dict[str, Any]:
    policy = json.loads(graph.named(name).inputs["assumeRolePolicy"])
    (statement,) = policy["Statement"]
    return dict(statement)


@pytest.fixture(scope="module")
def prod_like() -> ResourceGraph:
    return _plan(
        _config(
            github_deploy_subjects=("environment:production",),
            deploy_policy_arns=("arn:aws:iam::123456789012:policy/agatha-prod-deploy",),
        )
    )


def test_deploy_role_trusts_only_the_production_environment(prod_like: ResourceGraph) -> None:
    statement = _trust(prod_like, f"{NAME}-github-deploy")
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
            f"{GITHUB_OIDC_HOST}:sub": [f"repo:{REPO}:environment:production"],
        }
    }
    provider = prod_like.named(f"{NAME}-github-oidc")
    assert provider.inputs["url"] == f"https://{GITHUB_OIDC_HOST}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def test_preview_role_is_read_only_and_trusts_pull_requests(prod_like: ResourceGraph) -> None:
    statement = _trust(prod_like, f"{NAME}-github-preview")
    subjects = statement["Condition"]["StringEquals"][f"{GITHUB_OIDC_HOST}:sub"]
    assert subjects == [f"repo:{REPO}:pull_request", f"repo:{REPO}:ref:refs/heads/main"]
    attachment = prod_like.named(f"{NAME}-github-preview-read-only")
    assert attachment.inputs["policyArn"] == READ_ONLY_POLICY_ARN


def test_deploy_role_gets_exactly_the_configured_policies(prod_like: ResourceGraph) -> None:
    deploy = prod_like.named(f"{NAME}-github-deploy")
    attached = [
        r for r in prod_like.children_of(deploy.urn) if r.type.endswith("RolePolicyAttachment")
    ]
    assert [r.inputs["policyArn"] for r in attached] == [
        "arn:aws:iam::123456789012:policy/agatha-prod-deploy"
    ]


def test_every_child_is_parented_and_tagged(prod_like: ResourceGraph) -> None:
    (component,) = prod_like.of_type("agatha:cicd:Cicd")
    for role in prod_like.of_type(ROLE):
        assert role.parent == component.urn and role.inputs["tags"] == TAGS


def test_shared_account_reuses_an_existing_provider() -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    graph = _plan(_config(github_oidc_provider_arn=arn))
    assert not graph.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert _trust(graph, f"{NAME}-github-deploy")["Principal"] == {"Federated": arn}


def test_trust_policy_lists_full_subjects_in_order() -> None:
    subjects = oidc_subjects(REPO, ["ref:refs/heads/main", "environment:production"])
    policy = github_trust_policy("arn:provider", subjects)
    assert policy["Statement"][0]["Condition"]["StringEquals"][f"{GITHUB_OIDC_HOST}:sub"] == [
        f"repo:{REPO}:environment:production",
        f"repo:{REPO}:ref:refs/heads/main",
    ]


@pytest.mark.parametrize(
    "subject", ["ref:refs/heads/*", "*", "environment:prod*", "refs/heads/main"]
)
def test_wildcard_or_malformed_subjects_are_rejected(subject: str) -> None:
    with pytest.raises(StackConfigError, match="githubDeploySubjects"):
        read_section(
            CicdConfig,
            stack="prod",
            get_raw={"githubDeploySubjects": json.dumps([subject])}.get,
        )


def test_enabled_without_repository_names_the_key() -> None:
    with pytest.raises(StackConfigError, match="githubRepository"):
        read_section(CicdConfig, stack="dev", get_raw={"cicdEnabled": "true"}.get)


def test_both_stacks_plan_pinned_deploy_roles(
    dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    dev = _trust(dev_graph, "agatha-dev-github-deploy")["Condition"]["StringEquals"]
    prod = _trust(prod_graph, "agatha-prod-github-deploy")["Condition"]["StringEquals"]
    assert dev[f"{GITHUB_OIDC_HOST}:sub"] == [f"repo:{REPO}:ref:refs/heads/main"]
    assert prod[f"{GITHUB_OIDC_HOST}:sub"] == [f"repo:{REPO}:environment:production"]
