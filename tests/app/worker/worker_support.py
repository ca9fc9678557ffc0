"""Helpers shared by the worker tests: a scriptable provider and row readers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.models import InferenceRequest, UsageEvent
from app.providers.base import Completion, CompletionRequest
from app.providers.errors import ProviderError

FAKE_MODEL = "fake-model"
MAX_RECEIVES = 3


@dataclass
class FakeProvider:
    """Counts calls per prompt; raises the scripted errors first, can block until released."""

    name: str = "fake"
    errors: list[ProviderError] = field(default_factory=list)
    always: ProviderError | None = None
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    calls: list[str] = field(default_factory=list)

    async def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        self.calls.append(request.prompt)
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.always is not None:
            raise self.always
        if self.errors:
            raise self.errors.pop(0)
        return Completion(
            text=f"answer to {request.prompt}",
            tokens_in=3,
            tokens_out=4,
            provider=self.name,
            model=request.model,
            finish_reason="stop",
        )

    async def aclose(self) -> None:
        return None


async def no_sleep(_: float) -> None:
    return None


def body_for(request_id: str, tenant_id: str) -> str:
    return json.dumps({"v": 1, "id": request_id, "tenant": tenant_id})


async def row_of(engine: AsyncEngine, request_id: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(InferenceRequest.__table__).where(InferenceRequest.__table__.c.id == request_id)
        )
        return dict(result.mappings().one())


async def usage_rows(engine: AsyncEngine, request_id: str) -> int:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(UsageEvent.__table__).where(UsageEvent.__table__.c.request_id == request_id)
        )
        return len(result.all())
