"""Pure helpers for names and tags, shared by every layer (no Pulumi import)."""

from __future__ import annotations

import re

from components.config.general import GeneralConfig

_INVALID = re.compile(r"[^a-z0-9-]+")


def base_name(*, service: str, stack: str) -> str:
    """The prefix of every physical name in a stack, for example ``agatha-dev``."""
    return slug(f"{service}-{stack}")


def slug(text: str, *, max_length: int = 63) -> str:
    """Lower-case, hyphenated, AWS-safe name of at most ``max_length`` characters."""
    cleaned = _INVALID.sub("-", text.lower()).strip("-")
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    if not cleaned:
        raise ValueError(f"cannot derive a resource name from {text!r}")
    return cleaned[:max_length].rstrip("-")


def required_tags(general: GeneralConfig, *, stack: str, layer: str) -> dict[str, str]:
    """The tags the policy pack requires (GOV-03) plus the layer that owns the resource."""
    return {
        "environment": general.environment,
        "production": "true" if general.production else "false",
        "service": general.service,
        "owner": general.owner,
        "cost-center": general.cost_center,
        "stack": stack,
        "layer": layer,
        "managed-by": "pulumi",
    }


def ssm_prefix(*, service: str, stack: str) -> str:
    """The SSM parameter path under which a stack publishes what tools need."""
    return f"/{slug(service)}/{slug(stack)}/"
