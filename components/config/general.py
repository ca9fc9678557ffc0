"""Settings every layer shares: environment tier and the required tags."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.config.base import ConfigSection


class GeneralConfig(ConfigSection):
    """Environment and ownership of the stack."""

    environment: Literal["dev", "staging", "prod"] = Field(
        alias="environment",
        description="Environment tier (dev, staging or prod); prod turns on production rules.",
    )
    production: bool = Field(
        default=False,
        alias="production",
        description="True for production stacks: the policy pack then enforces its strict rules.",
    )
    owner: str = Field(
        default="platform-team", alias="owner", description="Owner tag on every resource."
    )
    cost_center: str = Field(
        default="llm-platform", alias="costCenter", description="Cost-centre tag on every resource."
    )
    service: str = Field(
        default="agatha", alias="service", description="Service tag and name prefix."
    )
