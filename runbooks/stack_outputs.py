"""Reading what a stack publishes (SSM parameters under its prefix) and its production flag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.naming import ssm_prefix
from components.published_outputs import PUBLISHED_KEYS
from runbooks.aws import AwsSession
from runbooks.errors import AwsOperationError, StackOutputMissing

SERVICE = "agatha"


class StackOutputs:
    """Reads ``/<service>/<stack>/<key>`` parameters on demand and caches them."""

    def __init__(self, aws: AwsSession, *, stack: str, service: str = SERVICE) -> None:
        self._aws = aws
        self.stack = stack
        self.prefix = ssm_prefix(service=service, stack=stack)
        self._cache: dict[str, str] = {}

    def parameter_name(self, key: str) -> str:
        """The full SSM parameter name of a published key."""
        if key not in PUBLISHED_KEYS:
            raise ValueError(f"{key!r} is not a published output (components/published_outputs.py)")
        return f"{self.prefix}{key}"

    def get(self, key: str) -> str:
        """The value of a published output, or a clear error naming the fix."""
        if key not in self._cache:
            name = self.parameter_name(key)
            try:
                response = self._aws.call("ssm", "get_parameter", resource=name, Name=name)
            except AwsOperationError as exc:
                if exc.code != "ParameterNotFound":
                    raise
                raise StackOutputMissing(
                    f"SSM parameter {name} not found in region {self._aws.region or '(default)'}: "
                    f"run `pulumi up -s {self.stack}` for stack {self.stack}, or check --region "
                    "and --stack."
                ) from exc
            self._cache[key] = str(response["Parameter"]["Value"])
        return self._cache[key]


def read_stack_file(project_dir: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` mapping of ``Pulumi.<stack>.yaml``, or {} when the file is absent."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = document.get("config") if isinstance(document, dict) else None
    return config if isinstance(config, dict) else {}


def is_production(stack_config: dict[str, Any]) -> bool:
    """True unless the stack file says ``agatha:production: false``.

    Unknown stacks (no local stack file, for example on an on-call laptop without the
    repository) are treated as production: the safe default asks for confirmation.
    """
    value = stack_config.get("agatha:production")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"false", "true"}:
        return value.lower() == "true"
    return True


def stack_region(stack_config: dict[str, Any]) -> str | None:
    """``aws:region`` from the stack file, if set."""
    value = stack_config.get("aws:region")
    return str(value) if value else None
