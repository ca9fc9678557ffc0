"""Alerting layer settings: severity routing to PagerDuty, Slack and email."""

from __future__ import annotations

from pydantic import Field

from components.config.base import ConfigSection


class AlertingConfig(ConfigSection):
    """Where each severity's notifications go."""

    alert_emails: tuple[str, ...] = Field(
        default=(), alias="alertEmails", description="Email addresses for info-level alerts."
    )
