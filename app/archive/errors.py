"""Errors raised by the archive.

ArchiveError           base
└── ArchiveWriteFailed S3 refused or did not answer the put: the job is retried later
"""

from __future__ import annotations


class ArchiveError(Exception):
    """Base of archive failures."""


class ArchiveWriteFailed(ArchiveError):
    """The archive object could not be written; the request's row keeps its prompt."""
