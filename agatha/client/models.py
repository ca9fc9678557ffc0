"""What the client returns: a request's status and a completed result (typed, immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "expired"})


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Inference:
    """A request's status (``POST``/``GET``/``DELETE /api/inference``)."""

    id: str
    status: str
    model: str
    created_at: datetime | None
    updated_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    result_path: str
    retry_after: float | None = None

    @property
    def done(self) -> bool:
        """True once the status can no longer change."""
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Inference:
        links = body.get("links") or {}
        return cls(
            id=str(body["id"]),
            status=str(body["status"]),
            model=str(body.get("model", "")),
            created_at=_time(body.get("createdAt")),
            updated_at=_time(body.get("updatedAt")),
            started_at=_time(body.get("startedAt")),
            completed_at=_time(body.get("completedAt")),
            result_path=str(links.get("result") or f"/api/inference/{body['id']}/result"),
        )


@dataclass(frozen=True)
class Result:
    """A completed request's output (``200`` from ``GET .../result``)."""

    id: str
    model: str
    provider: str | None
    response: str
    tokens_in: int
    tokens_out: int
    processing_ms: int
    completed_at: datetime | None

    @property
    def tokens_total(self) -> int:
        return self.tokens_in + self.tokens_out

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Result:
        tokens = body.get("tokens") or {}
        return cls(
            id=str(body["id"]),
            model=str(body.get("model", "")),
            provider=body.get("provider"),
            response=str(body.get("response", "")),
            tokens_in=int(tokens.get("input", 0)),
            tokens_out=int(tokens.get("output", 0)),
            processing_ms=int(body.get("processingTime", 0)),
            completed_at=_time(body.get("completedAt")),
        )
