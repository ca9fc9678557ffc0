"""`agatha failover ...`: database and cache failover."""

from __future__ import annotations

import click

from runbooks.commands.options import emit, make_context, mutating_options


@click.group()
def failover() -> None:
    """Fail the database or cache over to a replica."""


@failover.command("database")
@mutating_options
@click.option("--target", default=None, help="Reader instance to promote (default: best).")
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to wait.")
def database(
    *,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool,
    assume_yes: bool,
    target: str | None,
    timeout: float,
) -> None:
    """Aurora failover to a chosen or the best replica, then wait and verify."""
    from runbooks.failover_database import do_failover_database

    ctx = make_context(
        stack=stack, region=region, output=output, dry_run=dry_run, assume_yes=assume_yes
    )
    emit(ctx, do_failover_database(ctx, target=target, timeout=timeout))


@failover.command("cache")
@mutating_options
@click.option("--target", default=None, help="Replica cache cluster to promote.")
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to wait.")
def cache(
    *,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool,
    assume_yes: bool,
    target: str | None,
    timeout: float,
) -> None:
    """ElastiCache replication-group failover, then wait and verify."""
    from runbooks.failover_cache import do_failover_cache

    ctx = make_context(
        stack=stack, region=region, output=output, dry_run=dry_run, assume_yes=assume_yes
    )
    emit(ctx, do_failover_cache(ctx, target=target, timeout=timeout))
