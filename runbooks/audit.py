"""Append-only JSON-lines audit log of every runbook action (who, what, when, result)."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runbooks.aws import AwsSession
from runbooks.errors import AwsOperationError

AUDIT_ENV = "AGATHA_AUDIT_LOG"


def default_audit_path(environ: Mapping[str, str]) -> Path:
    """``$AGATHA_AUDIT_LOG`` or ``~/.agatha/audit.log``."""
    configured = environ.get(AUDIT_ENV)
    return Path(configured) if configured else Path.home() / ".agatha" / "audit.log"


def caller_identity(aws: AwsSession) -> str:
    """The IAM ARN of the caller, or why it is unknown (the audit never blocks an action)."""
    try:
        return str(aws.call("sts", "get_caller_identity", resource="caller")["Arn"])
    except AwsOperationError as exc:
        return f"unknown ({exc.code or 'error'})"


def local_user() -> str:
    """The local account name running the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class AuditLog:
    """One local file; each line is one JSON record."""

    path: Path

    def append(self, record: Mapping[str, Any]) -> None:
        """Add one record (creating the file with owner-only permissions)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(dict(record), sort_keys=True, default=str) + "\n")

    def read(self, *, limit: int, stack: str | None = None) -> list[dict[str, Any]]:
        """The last ``limit`` records, optionally for one stack, oldest first."""
        if not self.path.is_file():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn line from a crashed write must not hide the rest
            if stack is None or record.get("stack") == stack:
                records.append(record)
        return records[-limit:] if limit > 0 else records


def audit_record(
    *,
    who: str,
    action: str,
    stack: str,
    region: str | None,
    target: str,
    result: str,
    detail: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """One audit entry in the documented shape."""
    return {
        "when": (now or datetime.now(UTC)).isoformat(),
        "who": {"iam": who, "local_user": local_user()},
        "what": action,
        "stack": stack,
        "region": region,
        "target": target,
        "result": result,
        "detail": detail,
    }
