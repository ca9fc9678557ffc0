"""Options every ops command shares and the one place that turns them into an OpsContext."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from runbooks.audit import AuditLog, default_audit_path
from runbooks.aws import AwsSession
from runbooks.context import OpsContext
from runbooks.render import render
from runbooks.stack_outputs import is_production, read_stack_file, stack_region

F = TypeVar("F", bound=Callable[..., Any])


def common_options(function: F) -> F:
    """--stack, --region, --output."""
    function = click.option(
        "--output",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="Result format on stdout (logs go to stderr).",
    )(function)
    function = click.option(
        "--region",
        default=None,
        help="AWS region (default: aws:region of Pulumi.<stack>.yaml, then AWS_REGION).",
    )(function)
    return click.option(
        "--stack",
        required=True,
        envvar="AGATHA_STACK",
        help="Stack name, e.g. dev or prod (env AGATHA_STACK).",
    )(function)


def mutating_options(function: F) -> F:
    """--dry-run and --yes, on top of the common options."""
    function = click.option(
        "--yes",
        "-y",
        "assume_yes",
        is_flag=True,
        help="Do not ask for confirmation on production stacks (automation).",
    )(function)
    function = click.option(
        "--dry-run",
        is_flag=True,
        help="Print each step and change nothing.",
    )(function)
    return common_options(function)


def make_context(
    *,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool = False,
    assume_yes: bool = False,
    environ: Mapping[str, str] | None = None,
) -> OpsContext:
    """Build the context; production comes from ``Pulumi.<stack>.yaml`` (absent: production)."""
    env = os.environ if environ is None else environ
    project_dir = Path(env.get("AGATHA_PROJECT_DIR", "."))
    stack_config = read_stack_file(project_dir, stack)
    resolved_region = (
        region
        or stack_region(stack_config)
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
    )
    return OpsContext(
        stack=stack,
        aws=AwsSession(region=resolved_region),
        audit=AuditLog(default_audit_path(env)),
        production=is_production(stack_config),
        output=output,
        dry_run=dry_run,
        assume_yes=assume_yes,
    )


def emit(ctx: OpsContext, result: Mapping[str, Any]) -> None:
    """Render the result dict in the requested format."""
    render(result, output=ctx.output)
