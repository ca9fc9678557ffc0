"""`agatha policy`: run the pack offline over a stack's plan, and keep its docs current."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from policies.report import FORMATS


class PolicyCommandError(click.ClickException):
    """An operational failure of a policy command (exit code 1)."""


@click.group()
def policy() -> None:
    """Check stacks against the security policy pack."""


@policy.command()
@click.option("--stack", "-s", required=True, help="Stack name (Pulumi.<stack>.yaml).")
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@click.option(
    "--production/--no-production",
    default=None,
    help="Override the environment (default: decided from the resources' production tag).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory holding Pulumi.yaml and __main__.py.",
)
def check(
    stack: str, output_format: str, output: Path | None, production: bool | None, root: Path
) -> None:
    """Run every rule over STACK's offline plan; exit 1 on a mandatory violation."""
    text, exit_code = do_check(
        stack=stack, output_format=output_format, production=production, root=root
    )
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"report written to {output}", err=True)
    else:
        click.echo(text)
    sys.exit(exit_code)


def do_check(
    *, stack: str, output_format: str, production: bool | None, root: Path
) -> tuple[str, int]:
    """Evaluate ``stack`` under the mock runtime, run the rules, render the report."""
    from agatha.plan.mock_runtime import evaluate_stack
    from policies.offline import check_graph
    from policies.registry import ALL_RULES
    from policies.report import render

    graph = evaluate_stack(stack, root=root.resolve())
    result = check_graph(graph, ALL_RULES, production=production)
    return render(result, output_format), result.exit_code


@policy.command()
@click.option("--write", "mode", flag_value="write", help="Regenerate policies/README.md.")
@click.option("--check", "mode", flag_value="check", help="Exit 1 when the README is out of date.")
def docs(mode: str | None) -> None:
    """Print (or --write / --check) the rule table generated from the rules."""
    from policies import docs as docs_module
    from policies.errors import DocsDriftError

    if mode == "write":
        click.echo(f"wrote {docs_module.write()}", err=True)
    elif mode == "check":
        try:
            docs_module.verify()
        except DocsDriftError as exc:
            raise PolicyCommandError(str(exc)) from exc
    else:
        click.echo(docs_module.current())
