"""`agatha cost`: monthly estimate of one stack, or several side by side."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--stack", "-s", help="Stack to estimate (Pulumi.<stack>.yaml).")
@click.option("--compare", nargs=2, metavar="STACK STACK", help="Two stacks side by side.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def cost(
    stack: str | None, compare: tuple[str, str] | None, output_format: str, root: Path
) -> None:
    """Estimate the monthly AWS cost from the offline plan and usage assumptions."""
    if bool(stack) == bool(compare):
        raise click.UsageError("give exactly one of --stack STACK or --compare STACK STACK")
    stacks = list(compare) if compare else [str(stack)]
    click.echo(do_cost(stacks=stacks, output_format=output_format, root=root))


def do_cost(*, stacks: list[str], output_format: str, root: Path) -> str:
    """Plan each stack offline, price it and render the result."""
    from agatha.cost.estimate import estimate
    from agatha.cost.render import render_compare, render_json, render_text
    from agatha.cost.tables import load_inputs
    from agatha.plan.mock_runtime import evaluate_stack

    reports = [estimate(evaluate_stack(s, root=root.resolve()), load_inputs(s)) for s in stacks]
    if output_format == "json":
        return render_json(reports)
    if len(reports) == 1:
        return render_text(reports[0])
    return render_compare(reports)
