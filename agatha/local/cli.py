"""``agatha local up|down|status``: the whole platform on this machine (parsing only)."""

from __future__ import annotations

import json
from pathlib import Path

import click

STATE_DIR_ENV = "AGATHA_LOCAL_STATE_DIR"
STATE_DIR_HELP = f"State folder [env {STATE_DIR_ENV}; default: <project>/.agatha/local]."


def _state_dir(value: Path | None) -> Path:
    from agatha.local.state import default_state_dir

    return (value or default_state_dir()).resolve()


@click.group()
def local() -> None:
    """Run the platform on this machine with embedded defaults (moto, SQLite, local model).

    DATABASE_URL, REDIS_URL, AWS_ENDPOINT_URL (or QUEUE_URL + secret ARNs) and the
    provider *_API_KEY variables switch each part to the real thing.
    """


@local.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Gateway port on 127.0.0.1; 0 picks a free one.",
)
@click.option(
    "--once", is_flag=True, help="Exit 0 after the demo request succeeds (non-zero if it fails)."
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=STATE_DIR_ENV,
    help=STATE_DIR_HELP,
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Gateway only: requests stay pending until a worker polls the queue.",
)
def up(port: int, once: bool, state_dir: Path | None, no_worker: bool) -> None:
    """Start emulator, database, gateway and worker; send one demo request; serve."""
    from agatha.local.platform import UpOptions, run_up
    from agatha.local.state import project_root

    if once and no_worker:
        raise click.UsageError("--once needs the worker (the demo must complete); drop one")
    options = UpOptions(
        state_dir=_state_dir(state_dir),
        root=project_root(),
        port=port,
        once=once,
        worker=not no_worker,
    )
    run_up(options, click.echo)


@local.command()
@click.option("--purge", is_flag=True, help="Also delete the state folder (database, keys).")
@click.option("--yes", is_flag=True, help="Do not ask before purging.")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=STATE_DIR_ENV,
    help=STATE_DIR_HELP,
)
def down(purge: bool, yes: bool, dry_run: bool, state_dir: Path | None) -> None:
    """Stop a serving `agatha local up` (SIGTERM); --purge deletes its state."""
    from agatha.local import control
    from agatha.local.state import read_run_record

    folder = _state_dir(state_dir)
    record = read_run_record(folder)
    running = record is not None and record.alive
    if dry_run:
        click.echo(
            f"would stop pid {record.pid} ({record.url})"
            if record and running
            else "nothing running"
        )
        for target in control.purge_targets(folder) if purge else []:
            click.echo(f"would delete {target}")
        return
    stopped = control.stop_platform(folder)
    click.echo(f"stopped pid {stopped.pid} ({stopped.url})" if stopped else "nothing running")
    if not purge or not control.purge_targets(folder):
        return
    if not yes:
        click.confirm(f"Delete {folder} (database, demo key, JWT keys)?", default=False, abort=True)
    control.purge(folder)
    click.echo(f"deleted {folder}")


@local.command()
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=STATE_DIR_ENV,
    help=STATE_DIR_HELP,
)
def status(output: str, state_dir: Path | None) -> None:
    """Whether a local platform runs, where, and whether the gateway is ready."""
    from agatha.local.control import platform_status, render_status

    result = platform_status(_state_dir(state_dir))
    if output == "json":
        click.echo(json.dumps(result, indent=2))
        return
    for line in render_status(result):
        click.echo(line)
