"""`agatha audit`: show the local audit log of runbook actions."""

from __future__ import annotations

import os

import click

from runbooks.audit import AuditLog, default_audit_path
from runbooks.render import render


@click.command()
@click.option("--stack", default=None, envvar="AGATHA_STACK", help="Only this stack's entries.")
@click.option("--region", default=None, help="Accepted for symmetry; the log is local.")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many of the latest entries to show.",
)
def audit(stack: str | None, region: str | None, output: str, limit: int) -> None:
    """Who ran which runbook action on which stack, when, and with what result."""
    log = AuditLog(default_audit_path(os.environ))
    entries = log.read(limit=limit, stack=stack)
    rows = [
        {
            "when": e.get("when"),
            "who": (e.get("who") or {}).get("iam"),
            "user": (e.get("who") or {}).get("local_user"),
            "what": e.get("what"),
            "stack": e.get("stack"),
            "target": e.get("target"),
            "result": e.get("result"),
        }
        for e in entries
    ]
    render({"log": str(log.path), "entries": rows if output == "table" else entries}, output=output)
