"""Errors raised while building release artifacts.

AgathaError                       (agatha.errors)
 └── BuildError                   a build step failed; nothing was written
      ├── DependencyFetchError    pip could not download or install the pinned wheels
      └── BundleTooLargeError     the bundle exceeds the Lambda deployment-package limit
"""

from __future__ import annotations

from agatha.errors import AgathaError


class BuildError(AgathaError):
    """A build step failed; the message says which and what to do."""


class DependencyFetchError(BuildError):
    """pip failed to download or install the worker's dependencies for the target."""


class BundleTooLargeError(BuildError):
    """The unpacked bundle is larger than Lambda accepts."""
