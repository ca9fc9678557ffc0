"""`agatha rotate provider-key`: put a new provider/service credential, verify, promote.

The new value goes in as AWSPENDING; the optional check runs against it; promotion moves
AWSCURRENT to it and Secrets Manager labels the old version AWSPREVIOUS (recoverable).
"""

from __future__ import annotations

from typing import Any

import httpx

from runbooks import secret_versions as sv
from runbooks.context import OpsContext
from runbooks.procedure import run_procedure
from runbooks.provider_verify import verify_provider_key
from runbooks.steps import Step

ACTION = "rotate provider-key"


def do_rotate_provider_key(
    ctx: OpsContext,
    *,
    provider: str,
    value: str,
    verify: bool = False,
    base_url: str | None = None,
    http: httpx.Client | None = None,
) -> dict[str, Any]:
    """Rotate the secret of ``provider`` to ``value``."""
    secret_id = ctx.outputs.get(f"secret-arn-{provider}")
    aws = ctx.aws
    state: dict[str, str | None] = {"version": None}

    def staged() -> bool:
        pending = sv.pending_version(aws, secret_id)
        if pending and sv.get_value(aws, secret_id, stage=sv.PENDING) == value:
            state["version"] = pending
            return True
        return promoted()

    def stage() -> None:
        sv.drop_pending(aws, secret_id)  # a different value left by an earlier run
        state["version"] = sv.put_pending(aws, secret_id, value)

    def check() -> None:
        client = http or httpx.Client(timeout=15)
        try:
            verify_provider_key(provider, value, client=client, base_url=base_url)
        finally:
            if http is None:
                client.close()

    def promoted() -> bool:
        labels = sv.stage_versions(aws, secret_id)
        version = state["version"] or labels.get(sv.CURRENT)
        return labels.get(sv.CURRENT) == version and sv.get_value(aws, secret_id) == value

    def promote() -> None:
        version = state["version"] or sv.pending_version(aws, secret_id)
        if version is None:
            raise RuntimeError("stage step did not record a version")  # programming error
        sv.promote(aws, secret_id, version)

    steps = [
        Step(
            "stage",
            f"store the new {provider} value as AWSPENDING",
            stage,
            verify=staged,
            rollback=lambda: sv.drop_pending(aws, secret_id),
        ),
    ]
    if verify:
        steps.append(Step("verify", f"call {provider}'s check endpoint with the new value", check))
    steps.append(
        Step(
            "promote",
            "move AWSCURRENT to the new version (old one: AWSPREVIOUS)",
            promote,
            verify=promoted,
        )
    )

    def summarize() -> dict[str, Any]:
        labels = sv.stage_versions(aws, secret_id)
        return {
            "provider": provider,
            "current_version": labels.get(sv.CURRENT),
            "previous_version": labels.get(sv.PREVIOUS),
        }

    return run_procedure(
        ctx,
        action=f"{ACTION} --provider {provider}",
        target=secret_id,
        steps=steps,
        summarize=summarize,
    )
