"""`agatha docs`: regenerate the generated parts of the documentation."""

from __future__ import annotations

from pathlib import Path

import click

from agatha.errors import AgathaError


@click.group()
def docs() -> None:
    """Generated documentation (README architecture picture and cost table)."""


@docs.command("readme")
@click.option("--write", is_flag=True, help="Rewrite README.md instead of only checking it.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def readme(write: bool, root: Path) -> None:
    """Check (or --write) README.md's generated sections against the current plan."""
    from agatha.readme import update_readme

    current = update_readme(root.resolve(), write=write)
    if write:
        click.echo("README.md is current" if current else "README.md updated", err=True)
    elif not current:
        raise AgathaError("README.md is stale: run `agatha docs readme --write`")
    else:
        click.echo("README.md is current", err=True)
