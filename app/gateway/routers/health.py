"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.gateway.accept import DB_ERRORS
from app.gateway.deps import GatewayDep

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 2.0


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _database_ok(gw: Any) -> bool:
    try:
        async with gw.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except DB_ERRORS:
        return False
    return True


async def _bounded(check: Any) -> bool:
    try:
        return bool(await asyncio.wait_for(check, CHECK_TIMEOUT))
    except TimeoutError:
        return False


@router.get(
    "/readyz",
    summary="Readiness: database, rate limiter and queue answer",
    responses={503: {"description": "A dependency is down; the body names it."}},
)
async def readyz(gw: GatewayDep) -> JSONResponse:
    database, limiter, queue = await asyncio.gather(
        _bounded(_database_ok(gw)), _bounded(gw.limiter.ping()), _bounded(gw.sender.ping())
    )
    checks = {"database": database, "rateLimiter": limiter, "queue": queue}
    ready = all(checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(gw: GatewayDep) -> Response:
    return Response(generate_latest(gw.metrics.registry), media_type=CONTENT_TYPE_LATEST)
