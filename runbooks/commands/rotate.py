"""`agatha rotate ...`: credential and key rotations."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import click

from runbooks.commands.options import emit, make_context, mutating_options
from runbooks.provider_verify import PROVIDERS


@click.group()
def rotate() -> None:
    """Rotate database, cache, JWT and provider credentials."""


@rotate.command("db-credentials")
@mutating_options
@click.option(
    "--test-host",
    default=None,
    help="host[:port] to test the new login through (a tunnel); default: db-endpoint.",
)
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds to wait per wait.")
def db_credentials(
    *,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool,
    assume_yes: bool,
    test_host: str | None,
    timeout: float,
) -> None:
    """Rotate the Aurora master secret (managed rotation, or create/set/test/finish)."""
    from runbooks.rotate_db_credentials import do_rotate_db_credentials

    ctx = make_context(
        stack=stack, region=region, output=output, dry_run=dry_run, assume_yes=assume_yes
    )
    emit(ctx, do_rotate_db_credentials(ctx, test_host=test_host, timeout=timeout))


@rotate.command("redis-auth")
@mutating_options
@click.option(
    "--window-seconds",
    default=600.0,
    show_default=True,
    help="How long both tokens stay valid before the old one is rejected.",
)
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds to wait per wait.")
def redis_auth(
    *,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool,
    assume_yes: bool,
    window_seconds: float,
    timeout: float,
) -> None:
    """Rotate the Redis AUTH token (ROTATE, window, SET)."""
    from runbooks.rotate_redis_auth import do_rotate_redis_auth

    ctx = make_context(
        stack=stack, region=region, output=output, dry_run=dry_run, assume_yes=assume_yes
    )
    emit(ctx, do_rotate_redis_auth(ctx, window_seconds=window_seconds, timeout=timeout))


@rotate.command("jwt-signing-key")
@mutating_options
@click.option("--retire", is_flag=True, help="Remove the previous key once its grace is over.")
@click.option(
    "--grace-hours",
    default=24.0,
    show_default=True,
    help="How long tokens signed with the previous key stay valid.",
)
@click.option("--force", is_flag=True, help="Ignore the grace period (invalidates tokens).")
def jwt_signing_key(
    *,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool,
    assume_yes: bool,
    retire: bool,
    grace_hours: float,
    force: bool,
) -> None:
    """Add a new JWT signing key (old one stays valid), or --retire the old one."""
    from runbooks.rotate_jwt_signing_key import do_rotate_jwt_signing_key

    ctx = make_context(
        stack=stack, region=region, output=output, dry_run=dry_run, assume_yes=assume_yes
    )
    emit(
        ctx,
        do_rotate_jwt_signing_key(
            ctx, retire=retire, force=force, grace=timedelta(hours=grace_hours)
        ),
    )


def read_secret_input(from_file: Path | None) -> str:
    """The new value from a file or stdin (prompted without echo on a terminal)."""
    if from_file is not None:
        value = from_file.read_text(encoding="utf-8")
    elif sys.stdin.isatty():
        value = click.prompt("New value", hide_input=True, err=True)
    else:
        value = sys.stdin.read()
    value = value.strip()
    if not value:
        raise click.UsageError("the new value is empty: pipe it on stdin or use --from-file")
    return value


@rotate.command("provider-key")
@mutating_options
@click.option("--provider", required=True, type=click.Choice(PROVIDERS))
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the new value from this file (default: stdin).",
)
@click.option("--verify", is_flag=True, help="Call the provider with the new value first.")
@click.option("--verify-base-url", default=None, help="Override the provider API base URL.")
def provider_key(
    *,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool,
    assume_yes: bool,
    provider: str,
    from_file: Path | None,
    verify: bool,
    verify_base_url: str | None,
) -> None:
    """Put a new provider/service credential (never as an argument), verify, promote."""
    from runbooks.rotate_provider_key import do_rotate_provider_key

    value = read_secret_input(from_file)
    ctx = make_context(
        stack=stack, region=region, output=output, dry_run=dry_run, assume_yes=assume_yes
    )
    emit(
        ctx,
        do_rotate_provider_key(
            ctx, provider=provider, value=value, verify=verify, base_url=verify_base_url
        ),
    )
