"""Alerting layer: one encrypted SNS topic per severity, routed to PagerDuty, Slack and email.

critical -> PagerDuty (HTTPS) and Slack; warning -> Slack; info -> email. Slack goes through
AWS Chatbot. Datadog monitors notify their own handles, exposed for the monitoring layer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components.config.alerting import AlertingConfig
from components.naming import slug

SEVERITIES = ("critical", "warning", "info")
# What the account itself may do on its topics; the TLS-only deny covers the same list.
TOPIC_OWNER_ACTIONS = (
    "sns:Publish",
    "sns:Subscribe",
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
)
# Chatbot only reads alarms and renders metric charts into Slack.
CHATBOT_ACTIONS = (
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:GetMetricWidgetImage",
    "cloudwatch:ListMetrics",
)
# Guardrail: whatever a Slack user asks, Chatbot acts with at most read-only CloudWatch.
CHATBOT_GUARDRAIL_POLICY_ARN = "arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"


class PlatformKey(Protocol):
    """What alerting needs from the data layer."""

    @property
    def platform_key_arn(self) -> pulumi.Input[str]: ...


@dataclass
class AlertingArgs:
    """Inputs of the alerting layer."""

    config: AlertingConfig
    data: PlatformKey
    tags: dict[str, str] = field(default_factory=dict)


def topic_policy(*, topic_arn: str, account_id: str, region: str) -> dict[str, Any]:
    """Topic policy: this account's CloudWatch alarms publish, the account manages, TLS only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowCloudWatchAlarmsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*"
                    },
                },
            },
            {
                "Sid": "AllowAccountToManage",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": list(TOPIC_OWNER_ACTIONS),
                "Resource": topic_arn,
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(TOPIC_OWNER_ACTIONS),
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def datadog_handles(config: AlertingConfig) -> dict[str, str]:
    """Severity -> Datadog notification handle (info falls back to the first alert email)."""
    info = config.datadog_info_handle
    if not info and config.alert_emails:
        info = f"@{config.alert_emails[0]}"
    return {
        "critical": config.datadog_critical_handle,
        "warning": config.datadog_warning_handle,
        "info": info,
    }


def slack_routes(config: AlertingConfig) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Chatbot configuration role -> (Slack channel id, severities); empty without Slack."""
    if not config.slack_workspace_id:
        return {}
    critical_channel = config.slack_critical_channel_id or config.slack_channel_id
    if critical_channel == config.slack_channel_id:
        return {"alerts": (config.slack_channel_id, ("critical", "warning"))}
    return {
        "alerts": (config.slack_channel_id, ("warning",)),
        "critical": (critical_channel, ("critical",)),
    }


def chatbot_assume_role_policy() -> dict[str, Any]:
    """Trust policy letting AWS Chatbot assume its role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "chatbot.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def chatbot_role_policy() -> dict[str, Any]:
    """Read-only CloudWatch, which is all Chatbot needs to show alarms and charts."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadCloudWatch",
                "Effect": "Allow",
                "Action": list(CHATBOT_ACTIONS),
                # These read actions support no resource-level scoping.
                "Resource": "*",
            }
        ],
    }


class Alerting(pulumi.ComponentResource):
    """Severity topics and their subscribers."""

    topic_arns: dict[str, pulumi.Output[str]]
    datadog_handles: dict[str, str]

    def __init__(
        self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:alerting:Alerting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic_arns = self._create_topics(name, args, child)
        self._create_pagerduty(name, args.config, child)
        self._create_email(name, args.config, child)
        self._create_chatbot(name, args, child)
        self.datadog_handles = datadog_handles(args.config)
        self.register_outputs({"topicArns": self.topic_arns})

    def _create_topics(
        self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions
    ) -> dict[str, pulumi.Output[str]]:
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self))
        arns: dict[str, pulumi.Output[str]] = {}
        for severity in SEVERITIES:
            topic = aws.sns.Topic(
                f"{name}-alerts-{severity}",
                name=f"{name}-alerts-{severity}",
                display_name=f"AgathaAI {severity} alerts ({name})",
                kms_master_key_id=args.data.platform_key_arn,
                tags={**args.tags, "severity": severity},
                opts=opts,
            )
            policy = pulumi.Output.all(topic.arn, account_id.account_id, region.region).apply(
                lambda values: json.dumps(
                    topic_policy(topic_arn=values[0], account_id=values[1], region=values[2])
                )
            )
            aws.sns.TopicPolicy(
                f"{name}-alerts-{severity}-policy", arn=topic.arn, policy=policy, opts=opts
            )
            arns[severity] = topic.arn
        return arns

    def _create_pagerduty(
        self, name: str, config: AlertingConfig, opts: pulumi.ResourceOptions
    ) -> None:
        if not config.pagerduty_integration_url:
            return
        aws.sns.TopicSubscription(
            f"{name}-alerts-critical-pagerduty",
            topic=self.topic_arns["critical"],
            protocol="https",
            # The URL embeds the integration key: keep it out of state and plan output.
            endpoint=pulumi.Output.secret(config.pagerduty_integration_url),
            # PagerDuty's SNS integration confirms the subscription itself.
            endpoint_auto_confirms=True,
            opts=opts,
        )

    def _create_email(
        self, name: str, config: AlertingConfig, opts: pulumi.ResourceOptions
    ) -> None:
        for address in config.alert_emails:
            # Named after the address so removing one address replaces nothing else.
            aws.sns.TopicSubscription(
                f"{name}-alerts-info-email-{slug(address)}",
                topic=self.topic_arns["info"],
                protocol="email",
                endpoint=address,
                opts=opts,
            )

    def _create_chatbot(self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions) -> None:
        routes = slack_routes(args.config)
        if not routes:
            return
        role = aws.iam.Role(
            f"{name}-chatbot-role",
            assume_role_policy=json.dumps(chatbot_assume_role_policy()),
            description="AWS Chatbot: read-only CloudWatch for alert notifications in Slack",
            tags=args.tags,
            opts=opts,
        )
        aws.iam.RolePolicy(
            f"{name}-chatbot-read-cloudwatch",
            role=role.id,
            policy=json.dumps(chatbot_role_policy()),
            opts=opts,
        )
        for route, (channel_id, severities) in routes.items():
            aws.chatbot.SlackChannelConfiguration(
                f"{name}-chatbot-{route}",
                configuration_name=f"{name}-{route}",
                iam_role_arn=role.arn,
                slack_team_id=args.config.slack_workspace_id,
                slack_channel_id=channel_id,
                sns_topic_arns=[self.topic_arns[s] for s in severities],
                guardrail_policy_arns=[CHATBOT_GUARDRAIL_POLICY_ARN],
                logging_level="ERROR",
                tags=args.tags,
                opts=opts,
            )
