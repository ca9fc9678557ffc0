"""`agatha deploy restart gateway`."""

from __future__ import annotations

import click

from runbooks.commands.options import emit, make_context, mutating_options


@click.group()
def deploy() -> None:
    """Deployment operations on the running services."""


@deploy.command("restart")
@click.argument("service", type=click.Choice(["gateway"]))
@mutating_options
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to wait.")
def restart(
    *,
    service: str,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool,
    assume_yes: bool,
    timeout: float,
) -> None:
    """Force a new deployment of SERVICE and wait until it is steady."""
    from runbooks.deploy_restart_gateway import do_restart_gateway

    ctx = make_context(
        stack=stack, region=region, output=output, dry_run=dry_run, assume_yes=assume_yes
    )
    emit(ctx, do_restart_gateway(ctx, timeout=timeout))
