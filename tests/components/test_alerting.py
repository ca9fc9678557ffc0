"""Alerting layer: encrypted severity topics and their PagerDuty, Slack and email routes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from agatha.plan.graph import SECRET_PLACEHOLDER, PlannedResource, ResourceGraph
from agatha.plan.mock_runtime import evaluate_program, evaluate_stack
from components.alerting import SEVERITIES, Alerting, AlertingArgs, slack_routes
from components.config import load_stack_config
from components.config.alerting import AlertingConfig
from components.config.base import StackConfigError, read_section

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/platform"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
CHATBOT = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
EMAILS = ("oncall@agatha.ai", "platform@agatha.ai")


@dataclass(frozen=True)
class FakeData:
    platform_key_arn: str = KEY_ARN


FULL = AlertingConfig.model_validate(
    {
        "alert_emails": EMAILS,
        "pagerduty_integration_url": "https://events.pagerduty.com/integration/abc/enqueue",
        "slack_workspace_id": "T0123456789",
        "slack_channel_id": "C0ALERTS",
    }
)


def _plan(config: AlertingConfig) -> ResourceGraph:
    def program() -> None:
        Alerting("agatha-test", AlertingArgs(config=config, data=FakeData(), tags={"a": "b"}))

    return evaluate_program(program)


@pytest.fixture(scope="module")
def full() -> ResourceGraph:
    return _plan(FULL)


@pytest.fixture(scope="module")
def minimal() -> ResourceGraph:
    return _plan(AlertingConfig())


def _topics(graph: ResourceGraph) -> dict[str, PlannedResource]:
    return {r.inputs["tags"]["severity"]: r for r in graph.of_type(TOPIC)}


def _subscriptions(graph: ResourceGraph, severity: str) -> list[dict[str, Any]]:
    arn = _topics(graph)[severity].outputs["arn"]
    return [r.inputs for r in graph.of_type(SUBSCRIPTION) if r.inputs["topic"] == arn]


def test_one_kms_encrypted_topic_per_severity(full: ResourceGraph) -> None:
    topics = _topics(full)
    assert set(topics) == set(SEVERITIES)
    assert all(t.inputs["kmsMasterKeyId"] == KEY_ARN for t in topics.values())
    assert all(t.inputs["tags"]["a"] == "b" for t in topics.values())


def test_topic_policies_are_tls_only_and_scoped(full: ResourceGraph) -> None:
    policies = full.of_type("aws:sns/topicPolicy:TopicPolicy")
    assert {p.inputs["arn"] for p in policies} == {t.outputs["arn"] for t in _topics(full).values()}
    for resource in policies:
        statements = json.loads(resource.inputs["policy"])["Statement"]
        actions = [a for s in statements for a in _as_list(s["Action"])]
        assert "*" not in actions and "sns:*" not in actions
        deny = [s for s in statements if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert "sns:Publish" in _as_list(deny[0]["Action"])
        for allow in (s for s in statements if s["Effect"] == "Allow"):
            assert allow["Principal"] != "*"
            assert allow["Resource"] == resource.inputs["arn"]
        cloudwatch = next(s for s in statements if s.get("Principal") == _cw_principal())
        assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def _cw_principal() -> dict[str, str]:
    return {"Service": "cloudwatch.amazonaws.com"}


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_critical_pages_pagerduty_over_https_with_secret_endpoint(full: ResourceGraph) -> None:
    (pagerduty,) = _subscriptions(full, "critical")
    assert pagerduty["protocol"] == "https"
    assert pagerduty["endpointAutoConfirms"] is True
    assert pagerduty["endpoint"] == SECRET_PLACEHOLDER


def test_critical_and_warning_reach_slack_through_chatbot(full: ResourceGraph) -> None:
    (chatbot,) = full.of_type(CHATBOT)
    topics = _topics(full)
    assert set(chatbot.inputs["snsTopicArns"]) == {
        topics["critical"].outputs["arn"],
        topics["warning"].outputs["arn"],
    }
    assert chatbot.inputs["slackTeamId"] == "T0123456789"
    assert chatbot.inputs["slackChannelId"] == "C0ALERTS"
    role = full.named("agatha-test-chatbot-role")
    assert chatbot.inputs["iamRoleArn"] == role.outputs["arn"]


def test_chatbot_role_reads_cloudwatch_only(full: ResourceGraph) -> None:
    trust = json.loads(full.named("agatha-test-chatbot-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "chatbot.amazonaws.com"}
    policy = json.loads(full.named("agatha-test-chatbot-read-cloudwatch").inputs["policy"])
    actions = [a for s in policy["Statement"] for a in _as_list(s["Action"])]
    assert actions and all(a.startswith("cloudwatch:") for a in actions)
    assert not any(a.split(":")[1].startswith(("Put", "Set", "Delete")) for a in actions)


def test_info_has_one_email_subscription_per_address(full: ResourceGraph) -> None:
    subscriptions = _subscriptions(full, "info")
    assert all(s["protocol"] == "email" for s in subscriptions)
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(EMAILS)


def test_no_chatbot_or_pagerduty_when_unset(minimal: ResourceGraph) -> None:
    assert len(minimal.of_type(TOPIC)) == 3
    assert not minimal.of_type(CHATBOT)
    assert not minimal.of_type("aws:iam/role:Role")
    assert not minimal.of_type(SUBSCRIPTION)


def test_separate_critical_channel_gets_its_own_configuration() -> None:
    config = FULL.model_copy(update={"slack_critical_channel_id": "C0PAGE"})
    assert slack_routes(config) == {
        "alerts": ("C0ALERTS", ("warning",)),
        "critical": ("C0PAGE", ("critical",)),
    }
    channels = {r.inputs["slackChannelId"] for r in _plan(config).of_type(CHATBOT)}
    assert channels == {"C0ALERTS", "C0PAGE"}


def test_topic_arns_and_datadog_handles_are_exposed() -> None:
    captured: list[Alerting] = []

    def program() -> None:
        captured.append(Alerting("agatha-test", AlertingArgs(config=FULL, data=FakeData())))

    evaluate_program(program)
    (alerting,) = captured
    assert set(alerting.topic_arns) == set(SEVERITIES)
    assert alerting.datadog_handles == {
        "critical": "@pagerduty-agatha",
        "warning": "@slack-agatha-alerts",
        "info": "@oncall@agatha.ai",
    }


def test_pagerduty_url_stays_out_of_the_config_repr() -> None:
    assert "pagerduty.com" not in repr(FULL)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"alertEmails": '["not-an-address"]'}, "alertEmails"),
        ({"slackWorkspaceId": "T1"}, "slackChannelId"),
        ({"datadogWarningHandle": "slack-agatha"}, "datadogWarningHandle"),
    ],
)
def test_invalid_alerting_values_are_rejected_naming_the_key(raw: dict[str, str], key: str) -> None:
    with pytest.raises(StackConfigError, match=key):
        read_section(AlertingConfig, stack="dev", get_raw=raw.get)


def test_prod_stack_routes_critical_to_pagerduty_and_its_own_slack_channel() -> None:
    def program() -> None:
        config = load_stack_config()
        Alerting("agatha-prod", AlertingArgs(config=config.alerting, data=FakeData()))

    graph = evaluate_stack("prod", program=program)
    (pagerduty,) = _subscriptions(graph, "critical")
    assert pagerduty["endpoint"] == SECRET_PLACEHOLDER
    assert len(graph.of_type(CHATBOT)) == 2
