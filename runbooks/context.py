"""Everything a runbook needs about where and how it runs, built once per command."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click

from runbooks.audit import AuditLog
from runbooks.aws import AwsSession
from runbooks.stack_outputs import StackOutputs
from runbooks.waiting import Waiter


def _stderr(message: str) -> None:
    click.echo(message, err=True)


def _confirm(prompt: str) -> bool:
    return click.confirm(prompt, default=False, err=True)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class OpsContext:
    """Stack, AWS access, output and safety switches of one command invocation."""

    stack: str
    aws: AwsSession
    audit: AuditLog
    production: bool = True
    output: str = "table"
    dry_run: bool = False
    assume_yes: bool = False
    log: Callable[[str], None] = _stderr
    confirm: Callable[[str], bool] = _confirm
    now: Callable[[], datetime] = _now
    waiter: Waiter = field(
        default_factory=lambda: Waiter(clock=time.monotonic, sleep=time.sleep, interval=10.0)
    )
    outputs: StackOutputs = field(init=False)

    def __post_init__(self) -> None:
        self.outputs = StackOutputs(self.aws, stack=self.stack)

    @property
    def region(self) -> str | None:
        """The AWS region in use (None: boto3's default chain)."""
        return self.aws.region
