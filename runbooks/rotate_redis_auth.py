"""`agatha rotate redis-auth`: ElastiCache AUTH token rotation, ROTATE then SET.

Secret value (JSON): ``{"auth_token": "<current>", "previous_auth_token": "<old>"}``;
``previous_auth_token`` is present only during the rotation window, so the gateway and
worker can fall back to it while the cluster accepts both tokens. Steps:
stage (AWSPENDING holds both) -> rotate (cluster accepts both) -> promote (AWSCURRENT
holds both) -> window (clients pick up the new token) -> set (old token rejected) ->
finalize (AWSCURRENT holds the new token only).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from runbooks import secret_versions as sv
from runbooks.context import OpsContext
from runbooks.errors import PreconditionFailed
from runbooks.procedure import run_procedure
from runbooks.steps import Step

ACTION = "rotate redis-auth"


def parse_auth_secret(value: str | None) -> dict[str, str]:
    """The token document; a bare string (older format) is the current token."""
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return {"auth_token": value}
    if isinstance(parsed, dict):
        return {str(k): str(v) for k, v in parsed.items()}
    return {"auth_token": value}


def new_token() -> str:
    """A 43-character token (ElastiCache accepts 16-128 printable characters, no @ \" /)."""
    return secrets.token_urlsafe(32)


@dataclass
class TokenPair:
    new: str
    old: str


class RedisRotation:
    """Derives where an earlier run stopped from the secret, so a re-run resumes."""

    def __init__(
        self,
        ctx: OpsContext,
        *,
        secret_id: str,
        group_id: str,
        window_seconds: float,
        timeout: float,
    ) -> None:
        self.ctx, self.secret_id, self.group_id = ctx, secret_id, group_id
        self.window_seconds, self.timeout = window_seconds, timeout
        self.pair = self._load_pair()

    def _load_pair(self) -> TokenPair:
        aws = self.ctx.aws
        if sv.pending_version(aws, self.secret_id):
            pending = parse_auth_secret(sv.get_value(aws, self.secret_id, stage=sv.PENDING))
            return TokenPair(new=pending["auth_token"], old=pending.get("previous_auth_token", ""))
        current = parse_auth_secret(sv.get_value(aws, self.secret_id))
        if "previous_auth_token" in current:
            return TokenPair(new=current["auth_token"], old=current["previous_auth_token"])
        if "auth_token" not in current:
            raise PreconditionFailed(
                f"secret {self.secret_id} holds no auth_token: the cache was created without "
                "AUTH or the secret was emptied; restore it from AWSPREVIOUS before rotating"
            )
        return TokenPair(new=new_token(), old=current["auth_token"])

    def steps(self) -> list[Step]:
        g = self.group_id
        return [
            Step(
                "stage",
                "store new+old tokens as AWSPENDING",
                self._stage,
                verify=self._staged_or_later,
                rollback=self._drop_pending,
            ),
            Step(
                "rotate",
                f"modify_replication_group {g} AuthTokenUpdateStrategy=ROTATE "
                "(both tokens accepted)",
                lambda: self._modify("ROTATE"),
                verify=self._promoted_or_later,
            ),
            Step(
                "promote",
                "move AWSCURRENT to the version holding both tokens",
                self._promote,
                verify=self._promoted_or_later,
            ),
            Step(
                "window",
                f"wait {self.window_seconds:.0f}s for the gateway and worker to re-read the secret",
                self._window,
                verify=self._finalized,
            ),
            Step(
                "set",
                f"modify_replication_group {g} AuthTokenUpdateStrategy=SET (old token rejected)",
                lambda: self._modify("SET"),
                verify=self._finalized,
            ),
            Step(
                "finalize",
                "store the new token alone as AWSCURRENT",
                self._finalize,
                verify=self._finalized,
            ),
        ]

    def _current(self) -> dict[str, str]:
        return parse_auth_secret(sv.get_value(self.ctx.aws, self.secret_id))

    def _staged_or_later(self) -> bool:
        return (
            sv.pending_version(self.ctx.aws, self.secret_id) is not None
            or self._current().get("auth_token") == self.pair.new
        )

    def _stage(self) -> None:
        document = {"auth_token": self.pair.new, "previous_auth_token": self.pair.old}
        sv.put_pending(self.ctx.aws, self.secret_id, json.dumps(document))

    def _drop_pending(self) -> None:
        sv.drop_pending(self.ctx.aws, self.secret_id)

    def _modify(self, strategy: str) -> None:
        self.ctx.aws.call(
            "elasticache",
            "modify_replication_group",
            resource=self.group_id,
            ReplicationGroupId=self.group_id,
            AuthToken=self.pair.new,
            AuthTokenUpdateStrategy=strategy,
            ApplyImmediately=True,
        )
        wait_group_available(self.ctx, self.group_id, timeout=self.timeout)

    def _promoted_or_later(self) -> bool:
        return self._current().get("auth_token") == self.pair.new

    def _promote(self) -> None:
        pending = sv.pending_version(self.ctx.aws, self.secret_id)
        if pending is None:
            raise PreconditionFailed("no AWSPENDING token version; re-run to stage it again")
        sv.promote(self.ctx.aws, self.secret_id, pending)

    def _window(self) -> None:
        deadline = self.ctx.waiter.clock() + self.window_seconds

        def elapsed() -> tuple[bool, str]:
            left = deadline - self.ctx.waiter.clock()
            return left <= 0, f"{max(left, 0):.0f}s left"

        self.ctx.waiter.until(
            elapsed,
            what="rotation window",
            timeout=self.window_seconds + 60,
            fix="re-run; the window restarts and nothing is lost",
        )

    def _finalized(self) -> bool:
        current = self._current()
        return current.get("auth_token") == self.pair.new and "previous_auth_token" not in current

    def _finalize(self) -> None:
        sv.put_current(self.ctx.aws, self.secret_id, json.dumps({"auth_token": self.pair.new}))


def wait_group_available(ctx: OpsContext, group_id: str, *, timeout: float) -> None:
    """Wait until the replication group reports ``available``."""

    def check() -> tuple[bool, str]:
        groups = ctx.aws.call(
            "elasticache",
            "describe_replication_groups",
            resource=group_id,
            ReplicationGroupId=group_id,
        )["ReplicationGroups"]
        status = str(groups[0].get("Status", "unknown"))
        return status == "available", status

    ctx.waiter.until(
        check,
        what=f"replication group {group_id} available",
        timeout=timeout,
        fix="check the replication group's events in the ElastiCache console",
    )


def do_rotate_redis_auth(
    ctx: OpsContext, *, window_seconds: float = 600, timeout: float = 1800
) -> dict[str, Any]:
    """Rotate the Redis AUTH token of the stack."""
    secret_id = ctx.outputs.get("cache-auth-secret-arn")
    group_id = ctx.outputs.get("cache-replication-group-id")
    rotation = RedisRotation(
        ctx, secret_id=secret_id, group_id=group_id, window_seconds=window_seconds, timeout=timeout
    )
    return run_procedure(
        ctx, action=ACTION, target=f"{group_id} (secret {secret_id})", steps=rotation.steps()
    )
