"""What every step of the network component shares: child names, tags, parent, account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi


@dataclass(frozen=True)
class AwsContext:
    """Account, region and partition of the stack, looked up once (Outputs)."""

    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]
    dns_suffix: pulumi.Output[str]


@dataclass(frozen=True)
class NetworkScope:
    """Derives child names and tags from the component name; parents children to it."""

    name: str
    tags: Mapping[str, str]
    parent: pulumi.Resource
    aws: AwsContext

    def child(self, suffix: str) -> str:
        """The logical (and Name tag) name of a child, for example ``agatha-prod-vpc``."""
        return f"{self.name}-{suffix}"

    def tags_for(self, suffix: str, **extra: str) -> dict[str, str]:
        """The component's tags plus the child's ``Name`` tag (and any extra tags)."""
        return {**self.tags, **extra, "Name": self.child(suffix)}

    def opts(self, **options: Any) -> pulumi.ResourceOptions:
        """Resource options parenting a child to the component."""
        return pulumi.ResourceOptions(parent=self.parent, **options)
