"""Errors raised by the worker itself (provider failures live in app.providers.errors).

WorkerError
├── MalformedJobMessage   the SQS body is not {"v": 1, "id": ..., "tenant": ...}: dropped
├── WorkerMisconfigured   a setting the worker needs is missing: fix the environment
└── JobNotAcknowledged    a Lambda record to report in batchItemFailures (not an error)
"""

from __future__ import annotations


class WorkerError(Exception):
    """Base of the worker's own errors."""


class MalformedJobMessage(WorkerError):
    """The message body cannot be a job; it is deleted (retrying cannot fix it)."""


class WorkerMisconfigured(WorkerError):
    """The worker cannot start; the message names the variable to set."""


class JobNotAcknowledged(WorkerError):
    """Raised per SQS record the Lambda must leave on the queue (retry or dead-letter)."""
