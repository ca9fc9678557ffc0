"""Errors of the bench package.

HarnessError                 a harness cannot run (a service missing, a process died)
 +-- ServiceStartFailed      a process or server did not become ready in time
"""

from __future__ import annotations


class HarnessError(RuntimeError):
    """A harness cannot run; the message says what is missing and how to fix it."""


class ServiceStartFailed(HarnessError):
    """A process or server did not become ready in time (its log tail is in the message)."""
