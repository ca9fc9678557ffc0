"""Job queue: the gateway's micro-batching SQS sender."""

from __future__ import annotations

from app.queue.sender import BatchingSender, job_body

__all__ = ["BatchingSender", "job_body"]
