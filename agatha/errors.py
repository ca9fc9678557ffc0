"""Errors raised by the agatha tooling.

AgathaError
 ├── StackFileError        (agatha.plan.stack_files) stack file missing or malformed
 ├── ProgramError          (agatha.plan.mock_runtime) the Pulumi program failed under mocks
 └── ...                   each command package adds its own beneath this root

The CLI turns every AgathaError into exit code 1 with its message; usage errors exit 2.
"""

from __future__ import annotations


class AgathaError(Exception):
    """Root of every operational failure the CLI reports (exit code 1)."""
