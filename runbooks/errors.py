"""Errors raised by the ops runbooks (all exit with code 1 through click).

RunbookError (click.ClickException)
 ├── StackOutputMissing   an SSM parameter the stack publishes is absent
 ├── AwsOperationError    an AWS API call failed (translated: operation, resource, fix)
 ├── PreconditionFailed   the platform is not in a state where the procedure may start
 ├── VerificationFailed   a new credential, key or state did not pass its check
 ├── StepFailed           a step failed; the message reports rollback and state
 ├── WaitTimeout          a wait did not finish in time
 ├── Interrupted          Ctrl-C: the message is the state report
 └── Aborted              the operator declined the confirmation
"""

from __future__ import annotations

import click


class RunbookError(click.ClickException):
    """Root of every operational failure of a runbook (exit code 1)."""

    exit_code = 1


class StackOutputMissing(RunbookError):
    """A published stack output is missing from SSM."""


class AwsOperationError(RunbookError):
    """An AWS call failed; the message names the operation, resource and the fix."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class PreconditionFailed(RunbookError):
    """The procedure cannot start from the current state."""


class VerificationFailed(RunbookError):
    """A check of a new value or state failed."""


class StepFailed(RunbookError):
    """A runbook step failed (rollback, if any, has been attempted)."""


class WaitTimeout(RunbookError):
    """A wait ran past its timeout."""


class Interrupted(RunbookError):
    """The operator pressed Ctrl-C; the message reports where the procedure stopped."""


class Aborted(RunbookError):
    """The operator declined the confirmation; nothing was changed."""
