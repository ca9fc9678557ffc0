"""`agatha queue ...`: dead-letter inspection and redrive."""

from __future__ import annotations

import click

from runbooks.commands.options import common_options, emit, make_context, mutating_options


@click.group()
def queue() -> None:
    """Inspect and repair the inference queue and its dead-letter queue."""


@queue.command("redrive")
@mutating_options
@click.option(
    "--max",
    "max_messages",
    type=click.IntRange(min=1),
    default=None,
    help="Move at most this many messages (uses receive-send-delete).",
)
@click.option(
    "--method",
    type=click.Choice(["auto", "native", "manual"]),
    default="auto",
    show_default=True,
    help="native = SQS message-move task; manual = one by one.",
)
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to wait.")
def redrive(
    *,
    stack: str,
    region: str | None,
    output: str,
    dry_run: bool,
    assume_yes: bool,
    max_messages: int | None,
    method: str,
    timeout: float,
) -> None:
    """Move DLQ messages back to the inference queue."""
    from runbooks.queue_redrive import do_queue_redrive

    ctx = make_context(
        stack=stack, region=region, output=output, dry_run=dry_run, assume_yes=assume_yes
    )
    emit(ctx, do_queue_redrive(ctx, max_messages=max_messages, method=method, timeout=timeout))


@queue.command("inspect")
@common_options
@click.option(
    "--sample",
    default=10,
    show_default=True,
    type=click.IntRange(min=0, max=100),
    help="How many DLQ messages to show.",
)
@click.option(
    "--database-url",
    envvar="AGATHA_DATABASE_URL",
    default=None,
    help="Read failure reasons from this database (env AGATHA_DATABASE_URL).",
)
def inspect(
    stack: str, region: str | None, output: str, sample: int, database_url: str | None
) -> None:
    """Queue depth and age, and a sample of DLQ messages with failure reasons."""
    from runbooks.queue_inspect import do_queue_inspect

    ctx = make_context(stack=stack, region=region, output=output)
    emit(ctx, do_queue_inspect(ctx, sample=sample, database_url=database_url))
