"""`agatha rotate db-credentials`: rotate the Aurora master secret.

RDS-managed secrets (or secrets with rotation enabled) are rotated by Secrets Manager
(``rotate_secret``) and then tested. Otherwise the four-step client rotation runs:
create (AWSPENDING) -> set (modify_db_cluster) -> test (log in with the new value) ->
finish (AWSPENDING -> AWSCURRENT). Until finish, AWSCURRENT still holds the old value;
a failing set or test restores the old password and drops AWSPENDING.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from runbooks import secret_versions as sv
from runbooks.context import OpsContext
from runbooks.db_tester import CredentialTester, postgres_tester
from runbooks.errors import PreconditionFailed
from runbooks.procedure import run_procedure
from runbooks.steps import Step

ACTION = "rotate db-credentials"


def new_password() -> str:
    """A 40-character password without the characters RDS rejects (/ @ " space)."""
    return secrets.token_urlsafe(30)


def is_managed(described: dict[str, Any]) -> bool:
    """True when Secrets Manager/RDS rotate this secret themselves."""
    return described.get("OwningService") == "rds" or bool(described.get("RotationEnabled"))


class ClientRotation:
    """The four-step rotation; resumes from an existing AWSPENDING version."""

    def __init__(
        self, ctx: OpsContext, *, secret_id: str, cluster_id: str, tester: CredentialTester
    ) -> None:
        self.ctx, self.secret_id, self.cluster_id, self.tester = ctx, secret_id, cluster_id, tester
        self.version_id: str | None = None

    def steps(self) -> list[Step]:
        return [
            Step(
                "create",
                f"store a new password for {self.secret_id} as AWSPENDING",
                self._create,
                verify=self._created,
                rollback=self._drop_pending,
            ),
            Step(
                "set",
                f"set the new password on cluster {self.cluster_id} (modify_db_cluster)",
                self._set,
                rollback=self._restore_old_password,
            ),
            Step("test", "log in with the AWSPENDING credentials", self._test),
            Step(
                "finish",
                "move AWSCURRENT to the new version (old one becomes AWSPREVIOUS)",
                self._finish,
                verify=self._finished,
            ),
        ]

    def _credentials(self, stage: str) -> dict[str, Any]:
        value = sv.get_value(self.ctx.aws, self.secret_id, stage=stage)
        if value is None:
            raise PreconditionFailed(f"secret {self.secret_id} has no {stage} version")
        parsed: dict[str, Any] = json.loads(value)
        return parsed

    def _created(self) -> bool:
        self.version_id = sv.pending_version(self.ctx.aws, self.secret_id)
        return self.version_id is not None

    def _create(self) -> None:
        current = self._credentials(sv.CURRENT)
        pending = {**current, "password": new_password()}
        self.version_id = sv.put_pending(self.ctx.aws, self.secret_id, json.dumps(pending))

    def _drop_pending(self) -> None:
        sv.drop_pending(self.ctx.aws, self.secret_id)

    def _set_password(self, password: str) -> None:
        self.ctx.aws.call(
            "rds",
            "modify_db_cluster",
            resource=self.cluster_id,
            DBClusterIdentifier=self.cluster_id,
            MasterUserPassword=password,
            ApplyImmediately=True,
        )
        wait_cluster_available(self.ctx, self.cluster_id)

    def _set(self) -> None:
        self._set_password(str(self._credentials(sv.PENDING)["password"]))

    def _restore_old_password(self) -> None:
        self._set_password(str(self._credentials(sv.CURRENT)["password"]))

    def _test(self) -> None:
        self.tester(self._credentials(sv.PENDING))

    def _finished(self) -> bool:
        labels = sv.stage_versions(self.ctx.aws, self.secret_id)
        return self.version_id is not None and labels.get(sv.CURRENT) == self.version_id

    def _finish(self) -> None:
        if self.version_id is None:
            raise PreconditionFailed("no AWSPENDING version to promote; re-run the rotation")
        sv.promote(self.ctx.aws, self.secret_id, self.version_id)


def wait_cluster_available(ctx: OpsContext, cluster_id: str, *, timeout: float = 900) -> None:
    """Wait until the Aurora cluster reports ``available``."""

    def check() -> tuple[bool, str]:
        clusters = ctx.aws.call(
            "rds", "describe_db_clusters", resource=cluster_id, DBClusterIdentifier=cluster_id
        )["DBClusters"]
        status = str(clusters[0].get("Status", "unknown"))
        return status == "available", status

    ctx.waiter.until(
        check,
        what=f"cluster {cluster_id} available",
        timeout=timeout,
        fix="check the cluster's events in the RDS console, then re-run",
    )


def managed_steps(
    ctx: OpsContext, *, secret_id: str, tester: CredentialTester, timeout: float
) -> list[Step]:
    """Secrets Manager rotates the secret (and RDS the password); we wait and test."""
    start_current = sv.stage_versions(ctx.aws, secret_id).get(sv.CURRENT)

    def rotated() -> tuple[bool, str]:
        labels = sv.stage_versions(ctx.aws, secret_id)
        pending = labels.get(sv.PENDING)
        done = labels.get(sv.CURRENT) != start_current and pending in (None, labels.get(sv.CURRENT))
        return done, "rotated" if done else "rotation in progress"

    def request() -> None:
        ctx.aws.call("secretsmanager", "rotate_secret", resource=secret_id, SecretId=secret_id)

    def wait() -> None:
        ctx.waiter.until(
            rotated,
            what=f"rotation of {secret_id}",
            timeout=timeout,
            fix="check the secret's rotation status and the RDS events, then re-run",
        )

    def test() -> None:
        value = sv.get_value(ctx.aws, secret_id) or "{}"
        tester(json.loads(value))

    return [
        Step(
            "request-rotation",
            f"ask Secrets Manager to rotate {secret_id} now",
            request,
            verify=lambda: sv.pending_version(ctx.aws, secret_id) is not None,
        ),
        Step("wait", "wait until the new version is AWSCURRENT", wait),
        Step("test", "log in with the new AWSCURRENT credentials", test),
    ]


def do_rotate_db_credentials(
    ctx: OpsContext,
    *,
    tester: CredentialTester | None = None,
    test_host: str | None = None,
    timeout: float = 1800,
) -> dict[str, Any]:
    """Rotate the database master credentials of the stack."""
    secret_id = ctx.outputs.get("db-master-secret-arn")
    cluster_id = ctx.outputs.get("db-cluster-id")
    if tester is None:
        tester = postgres_tester(default_host=test_host or ctx.outputs.get("db-endpoint"))
    managed = is_managed(sv.describe(ctx.aws, secret_id))
    if managed:
        steps = managed_steps(ctx, secret_id=secret_id, tester=tester, timeout=timeout)
    else:
        steps = ClientRotation(
            ctx, secret_id=secret_id, cluster_id=cluster_id, tester=tester
        ).steps()

    def summarize() -> dict[str, Any]:
        labels = sv.stage_versions(ctx.aws, secret_id)
        return {
            "method": "managed" if managed else "client",
            "current_version": labels.get(sv.CURRENT),
            "previous_version": labels.get(sv.PREVIOUS),
        }

    return run_procedure(
        ctx,
        action=ACTION,
        target=f"{secret_id} (cluster {cluster_id})",
        steps=steps,
        summarize=summarize,
    )
