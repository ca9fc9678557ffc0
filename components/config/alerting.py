"""Alerting layer settings: severity routing to PagerDuty, Slack and email."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from components.config.base import ConfigSection

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AlertingConfig(ConfigSection):
    """Where each severity's notifications go."""

    alert_emails: tuple[str, ...] = Field(
        default=(), alias="alertEmails", description="Email addresses for info-level alerts."
    )
    # A secret by nature (anyone holding it can page on-call): keep it encrypted in the
    # stack file (`pulumi config set --secret`); the component wraps it in Output.secret.
    pagerduty_integration_url: str = Field(
        default="",
        repr=False,
        alias="pagerdutyIntegrationUrl",
        description=(
            "SECRET. PagerDuty Amazon SNS integration URL for critical alerts "
            "(https://events.pagerduty.com/integration/<key>/enqueue); empty = no PagerDuty."
        ),
    )
    slack_workspace_id: str = Field(
        default="",
        alias="slackWorkspaceId",
        description="Slack workspace (team) id authorised in AWS Chatbot; empty = no Slack.",
    )
    slack_channel_id: str = Field(
        default="",
        alias="slackChannelId",
        description="Slack channel id for warning (and critical) alerts; needed with Slack.",
    )
    slack_critical_channel_id: str = Field(
        default="",
        alias="slackCriticalChannelId",
        description="Separate Slack channel id for critical alerts; empty = slackChannelId.",
    )
    datadog_critical_handle: str = Field(
        default="@pagerduty-agatha",
        alias="datadogCriticalHandle",
        description="Datadog notification handle for critical monitors (@pagerduty-<service>).",
    )
    datadog_warning_handle: str = Field(
        default="@slack-agatha-alerts",
        alias="datadogWarningHandle",
        description="Datadog notification handle for warning monitors (@slack-<channel>).",
    )
    datadog_info_handle: str = Field(
        default="",
        alias="datadogInfoHandle",
        description="Datadog handle for info monitors (@<email>); empty = first alertEmails.",
    )

    @field_validator("alert_emails")
    @classmethod
    def _emails_look_like_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [e for e in value if not _EMAIL.match(e)]
        if bad:
            raise ValueError(f"{bad} are not email addresses")
        if len(set(value)) != len(value):
            raise ValueError("lists an address twice")
        return value

    @field_validator("datadog_critical_handle", "datadog_warning_handle", "datadog_info_handle")
    @classmethod
    def _handles_start_with_at(cls, value: str) -> str:
        if value and not value.startswith("@"):
            raise ValueError(f"'{value}' is not a Datadog handle (they start with '@')")
        return value

    @model_validator(mode="after")
    def _slack_needs_channel(self) -> AlertingConfig:
        if self.slack_workspace_id and not self.slack_channel_id:
            raise ValueError("slackChannelId: is required when slackWorkspaceId is set")
        return self
