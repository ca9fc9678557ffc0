"""`agatha plan`: evaluate the program for a stack offline and print its resource graph."""

from __future__ import annotations

from pathlib import Path

import click

RENDERERS = ("text", "json", "mermaid")


@click.command()
@click.option("--stack", "-s", required=True, help="Stack name (Pulumi.<stack>.yaml).")
@click.option(
    "--format", "output_format", type=click.Choice(RENDERERS), default="text", show_default=True
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory holding Pulumi.yaml and __main__.py.",
)
def plan(stack: str, output_format: str, root: Path) -> None:
    """Show what `pulumi up` would create, without credentials or network."""
    click.echo(do_plan(stack=stack, output_format=output_format, root=root))


def do_plan(*, stack: str, output_format: str, root: Path) -> str:
    """Evaluate ``stack`` under the mock runtime and render it."""
    from agatha.plan.mermaid import render_mermaid
    from agatha.plan.mock_runtime import evaluate_stack
    from agatha.plan.render import render_json, render_text

    graph = evaluate_stack(stack, root=root.resolve())
    renderers = {"json": render_json, "mermaid": render_mermaid, "text": render_text}
    return renderers[output_format](graph)
