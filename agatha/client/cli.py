"""``agatha infer "prompt" --model ... [--wait]``: the client for terminal users.

Without --url/--api-key it talks to the running ``agatha local up`` (its run.json and
demo key), so the first command after the quick start needs no setup.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_MODEL = "local-echo"


def local_defaults(state_dir: Path | None = None) -> tuple[str | None, str | None]:
    """URL and API key of the local platform serving from ``state_dir``, if any."""
    from agatha.local.state import default_state_dir, read_demo_key, read_run_record

    configured = os.environ.get("AGATHA_LOCAL_STATE_DIR")
    folder = state_dir or (Path(configured) if configured else default_state_dir())
    record = read_run_record(folder)
    url = record.url if record is not None and record.alive else None
    return url, read_demo_key(folder)


def do_infer(
    prompt: str,
    *,
    model: str,
    url: str,
    api_key: str,
    wait: bool,
    timeout: float,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Submit (and with ``wait`` wait for) one prompt; the answer as a JSON-able dict."""
    from agatha.client.sync import AgathaClient

    with AgathaClient(url, api_key) as client:
        submitted = client.submit(prompt, model=model, parameters=parameters)
        if not wait:
            return {
                "id": submitted.id,
                "status": submitted.status,
                "model": submitted.model,
                "result": f"{client.base_url}{submitted.result_path}",
            }
        result = client.wait(submitted.id, timeout=timeout)
    out = asdict(result) | {"status": "completed", "tokens_total": result.tokens_total}
    out["completed_at"] = result.completed_at.isoformat() if result.completed_at else None
    return out


def render(answer: dict[str, Any]) -> list[str]:
    """Text output: the response alone when completed, else id, status and result URL."""
    if answer["status"] == "completed":
        return [str(answer["response"])]
    return [f"{answer['id']} {answer['status']}", f"result: {answer['result']}"]


@click.command()
@click.argument("prompt")
@click.option(
    "--model",
    "-m",
    default=DEFAULT_MODEL,
    show_default=True,
    envvar="AGATHA_MODEL",
    help="Model name from the gateway's catalogue.",
)
@click.option(
    "--wait/--no-wait",
    default=False,
    help="Wait for the result (long-poll) instead of printing the request id.",
)
@click.option(
    "--url",
    envvar="AGATHA_URL",
    help="Gateway URL [env AGATHA_URL; default: the running local platform].",
)
@click.option(
    "--api-key",
    envvar="AGATHA_API_KEY",
    help="API key or JWT [env AGATHA_API_KEY; default: the local demo key].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="Seconds --wait waits for the result.",
)
@click.option(
    "--parameters",
    "parameters_json",
    metavar="JSON",
    help="Generation parameters, e.g. '{\"maxTokens\": 64}'.",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def infer(
    *,
    prompt: str,
    model: str,
    wait: bool,
    url: str | None,
    api_key: str | None,
    timeout: float,
    parameters_json: str | None,
    output: str,
) -> None:
    """Send PROMPT to the gateway; with --wait print the response."""
    local_url, local_key = local_defaults()
    api_key = api_key or local_key
    if not api_key:
        raise click.UsageError(
            "no API key: pass --api-key or set AGATHA_API_KEY (or run `agatha local up`)"
        )
    try:
        parameters = json.loads(parameters_json) if parameters_json else None
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--parameters") from exc
    answer = do_infer(
        prompt,
        model=model,
        url=url or local_url or DEFAULT_URL,
        api_key=api_key,
        wait=wait,
        timeout=timeout,
        parameters=parameters,
    )
    if output == "json":
        click.echo(json.dumps(answer, indent=2))
        return
    for line in render(answer):
        click.echo(line)
