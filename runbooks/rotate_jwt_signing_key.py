"""`agatha rotate jwt-signing-key`: add a new signing key, keep the old one for a grace period.

Secret value: ``{"keys": [{"kid", "secret", "status": "current"|"previous", "created_at"}]}``.
The gateway signs with the ``current`` key and accepts tokens signed by any listed key, so
tokens issued before the rotation stay valid until ``--retire`` removes the previous key,
which is allowed once the grace period (counted from the new key's ``created_at``) is over.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from runbooks import secret_versions as sv
from runbooks.context import OpsContext
from runbooks.errors import PreconditionFailed
from runbooks.procedure import run_procedure
from runbooks.steps import Step

ACTION_ROTATE = "rotate jwt-signing-key"
ACTION_RETIRE = "rotate jwt-signing-key --retire"


def load_keys(value: str | None, *, secret_id: str) -> list[dict[str, str]]:
    """The key list of the secret ([] for a secret without a value yet)."""
    if not value:
        return []
    try:
        keys = json.loads(value)["keys"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise PreconditionFailed(
            f"secret {secret_id} does not hold the JWT key set JSON "
            '{"keys": [...]}: restore the AWSPREVIOUS version or fix the value, then re-run'
        ) from exc
    return [dict(k) for k in keys]


def new_key(now: datetime) -> dict[str, str]:
    """A fresh HS256 key (64 random bytes) marked current."""
    return {
        "kid": now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4),
        "secret": secrets.token_urlsafe(64),
        "status": "current",
        "created_at": now.isoformat(),
    }


def grace_ends(keys: list[dict[str, str]], grace: timedelta) -> datetime | None:
    """When previous keys may be retired: the current key's creation plus the grace period."""
    current = [k for k in keys if k.get("status") == "current"]
    if not current:
        return None
    return max(datetime.fromisoformat(k["created_at"]) for k in current) + grace


def rotated_keys(
    keys: list[dict[str, str]], *, now: datetime, grace: timedelta, force: bool
) -> list[dict[str, str]]:
    """Demote current keys to previous and add a new current one."""
    previous = [k for k in keys if k.get("status") == "previous"]
    ends = grace_ends(keys, grace)
    if previous and ends is not None and now < ends and not force:
        raise PreconditionFailed(
            f"previous key(s) {', '.join(k['kid'] for k in previous)} are still in their grace "
            f"period until {ends.isoformat()}; rotating again would invalidate tokens signed "
            "with them. Wait, run with --retire after that time, or pass --force."
        )
    demoted = [{**k, "status": "previous"} for k in keys if k.get("status") == "current"]
    return [new_key(now), *demoted]


def retired_keys(
    keys: list[dict[str, str]], *, now: datetime, grace: timedelta, force: bool
) -> list[dict[str, str]]:
    """Drop previous keys once the grace period is over."""
    ends = grace_ends(keys, grace)
    if ends is not None and now < ends and not force:
        raise PreconditionFailed(
            f"the grace period runs until {ends.isoformat()}: tokens signed with the previous "
            "key may still be in use. Re-run with --retire after that time (or --force)."
        )
    return [k for k in keys if k.get("status") != "previous"]


def do_rotate_jwt_signing_key(
    ctx: OpsContext,
    *,
    retire: bool = False,
    grace: timedelta = timedelta(hours=24),
    force: bool = False,
) -> dict[str, Any]:
    """Add a new signing key (or, with ``retire``, remove the previous one after grace)."""
    secret_id = ctx.outputs.get("jwt-signing-secret-arn")
    keys = load_keys(sv.get_value(ctx.aws, secret_id), secret_id=secret_id)
    now = ctx.now()
    if retire:
        updated = retired_keys(keys, now=now, grace=grace, force=force)
        describe = "remove previous key(s) " + ", ".join(
            k["kid"] for k in keys if k.get("status") == "previous"
        )
        verify = lambda: all(k.get("status") != "previous" for k in keys)  # noqa: E731
    else:
        updated = rotated_keys(keys, now=now, grace=grace, force=force)
        describe = f"add current key {updated[0]['kid']} and demote the old one to previous"
        verify = None
    document = json.dumps({"keys": updated})
    steps = [Step("update-keys", describe, lambda: _put(ctx, secret_id, document), verify=verify)]
    summary: dict[str, Any] = {
        "keys": [
            {"kid": k["kid"], "status": k["status"], "created_at": k["created_at"]} for k in updated
        ]
    }
    if not retire:
        summary["retire_after"] = str(grace_ends(updated, grace))
    return run_procedure(
        ctx,
        action=ACTION_RETIRE if retire else ACTION_ROTATE,
        target=secret_id,
        steps=steps,
        summarize=lambda: summary,
    )


def _put(ctx: OpsContext, secret_id: str, document: str) -> None:
    sv.put_current(ctx.aws, secret_id, document)
