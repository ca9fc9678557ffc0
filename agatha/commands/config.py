"""`agatha config`: the documented stack-config schema."""

from __future__ import annotations

from pathlib import Path

import click

from agatha.project_file import render_project_file, write_project_file


@click.group()
def config() -> None:
    """Stack configuration keys (declared in components/config/)."""


@config.command("schema")
@click.option("--write", is_flag=True, help="Rewrite Pulumi.yaml in the current directory.")
def schema(write: bool) -> None:
    """Print (or --write) Pulumi.yaml generated from the config declarations."""
    if write:
        path = write_project_file(Path.cwd())
        click.echo(f"wrote {path}", err=True)
    else:
        click.echo(render_project_file(), nl=False)
