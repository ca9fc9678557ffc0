"""The `agatha` command: one entry point for plan, policy, cost, local platform and ops.

Subcommands load lazily (``COMMANDS`` maps a name to ``module:attribute``) so that
`agatha status` never pays for importing the Pulumi SDKs. Exit codes are a contract:
0 success, 1 operational failure (``AgathaError`` / ``click.ClickException``), 2 usage.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from agatha.errors import AgathaError

COMMANDS: dict[str, str] = {
    "plan": "agatha.commands.plan:plan",
    "config": "agatha.commands.config:config",
    "docs": "agatha.commands.docs:docs",
    "policy": "policies.cli:policy",
    "status": "runbooks.commands.status:status",
    "rotate": "runbooks.commands.rotate:rotate",
    "failover": "runbooks.commands.failover:failover",
    "queue": "runbooks.commands.queue:queue",
    "deploy": "runbooks.commands.deploy:deploy",
    "audit": "runbooks.commands.audit:audit",
    "cost": "agatha.cost.cli:cost",
    "build": "agatha.build.cli:build",
    "local": "agatha.local.cli:local",
    "infer": "agatha.client.cli:infer",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AgathaError as exc:
            # Operational failures: the message says what was wrong and what to do.
            raise click.ClickException(str(exc)) from exc


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log debug details to stderr.")
def cli(verbose: bool) -> None:
    """Run the AgathaAI platform: plan, check, estimate, run locally and operate it."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    """Console-script entry point."""
    try:
        cli()
    except SystemExit as exc:
        if "pulumi" in sys.modules:
            _exit_without_teardown(exc.code)
        raise


def _exit_without_teardown(code: int | str | None) -> None:
    """Exit now, skipping the interpreter's teardown of the loaded provider SDKs.

    Freeing the tens of thousands of classes pulumi_aws, pulumi_cloudflare and
    pulumi_datadog define takes about 3.5 s, a fifth of a cold `agatha policy check`
    (bench/tooling.py). Nothing of ours runs at exit: logs and standard streams are
    flushed here, and the exit code is the one click chose.
    """
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
