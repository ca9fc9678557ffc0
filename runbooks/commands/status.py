"""`agatha status`."""

from __future__ import annotations

import click

from runbooks.commands.options import common_options, emit, make_context
from runbooks.status import do_status


@click.command()
@common_options
def status(stack: str, region: str | None, output: str) -> None:
    """Health of the deployed platform: services, queues, database, cache, alarms, secrets."""
    ctx = make_context(stack=stack, region=region, output=output)
    emit(ctx, do_status(ctx))
