"""Running a mutating procedure: confirm on production, run or print the steps, audit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from runbooks.audit import audit_record, caller_identity
from runbooks.context import OpsContext
from runbooks.errors import Aborted, Interrupted, RunbookError
from runbooks.steps import Step, plan_steps, run_steps


def run_procedure(
    ctx: OpsContext,
    *,
    action: str,
    target: str,
    steps: Sequence[Step],
    summarize: Callable[[], Mapping[str, Any]] | None = None,
    resume_hint: str = "",
) -> dict[str, Any]:
    """Confirm, run (or print) ``steps``, audit the outcome and return the report dict."""
    who = caller_identity(ctx.aws)

    def audit(result: str, detail: str = "") -> None:
        ctx.audit.append(
            audit_record(
                who=who,
                action=action,
                stack=ctx.stack,
                region=ctx.region,
                target=target,
                result=result,
                detail=detail,
                now=ctx.now(),
            )
        )

    if ctx.dry_run:
        results = plan_steps(steps, log=ctx.log)
        audit("dry-run")
        return _report(ctx, action=action, target=target, results=results, summary={})
    try:
        confirm_target(ctx, action=action, target=target)
        results = run_steps(steps, log=ctx.log, resume_hint=resume_hint)
        summary = dict(summarize()) if summarize else {}
    except Aborted as exc:
        audit("aborted", exc.format_message())
        raise
    except Interrupted as exc:
        audit("interrupted", exc.format_message())
        raise
    except RunbookError as exc:
        audit("failed", exc.format_message())
        raise
    audit("ok")
    return _report(ctx, action=action, target=target, results=results, summary=summary)


def confirm_target(ctx: OpsContext, *, action: str, target: str) -> None:
    """On production stacks ask (default No) naming stack and target; ``--yes`` skips."""
    if not ctx.production or ctx.assume_yes:
        return
    prompt = (
        f"{action} on PRODUCTION stack '{ctx.stack}' (region {ctx.region or 'default'}), "
        f"target {target}. Continue?"
    )
    try:
        accepted = ctx.confirm(prompt)
    except click.Abort as exc:
        raise Aborted("not confirmed (no answer); nothing was changed") from exc
    if not accepted:
        raise Aborted("not confirmed; nothing was changed")


def _report(
    ctx: OpsContext,
    *,
    action: str,
    target: str,
    results: list[dict[str, str]],
    summary: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "stack": ctx.stack,
        "action": action,
        "target": target,
        "dry_run": ctx.dry_run,
        **summary,
        "steps": results,
    }
