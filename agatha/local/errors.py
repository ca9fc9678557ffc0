"""Errors raised by the local platform (``agatha local ...``).

AgathaError (agatha.errors)
└── LocalPlatformError        the local platform could not start, run or stop
    ├── AlreadyRunning        another ``agatha local up`` owns the state folder
    ├── StartupFailed         a part (emulator, database, gateway, worker) did not come up
    └── DemoFailed            the demo request did not reach 200 through the full flow
"""

from __future__ import annotations

from agatha.errors import AgathaError


class LocalPlatformError(AgathaError):
    """Base of the local platform's operational failures (exit code 1)."""


class AlreadyRunning(LocalPlatformError):
    """The state folder belongs to a running platform."""


class StartupFailed(LocalPlatformError):
    """A part of the platform did not start."""


class DemoFailed(LocalPlatformError):
    """The demo request did not complete."""
