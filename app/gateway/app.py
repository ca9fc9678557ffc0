"""``create_app()``: the gateway's FastAPI application factory (nothing runs at import)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.gateway.accept_route import AcceptRoute, declared_accept_route
from app.gateway.handlers import install_handlers
from app.gateway.metrics import GatewayMetrics
from app.gateway.middleware import RequestContextMiddleware
from app.gateway.routers import admin, health, inference
from app.gateway.state import open_gateway
from app.local_aws import embedded_aws
from app.logging import configure_logging
from app.notify import Notifier
from app.settings import Settings, get_settings
from app.tracing import GATEWAY_SERVICE, configure_tracing, shutdown_tracing

DESCRIPTION = """
Submit prompts with `POST /api/inference` (answers **202** with `Location` and
`Retry-After`), then poll `GET /api/inference/{id}/result` (**202** while `pending` or
`processing`, **200** `{response, tokens, processingTime}` when `completed`, **424** when
`failed`, **410** when `cancelled` or `expired`).

Status values: `pending`, `processing`, `completed`, `failed`, `cancelled`, `expired`.
Errors always have the shape `{"error": {"code", "message", "field", "requestId"}}`.
Limits: prompt <= MAX_PROMPT_CHARS (32000), body <= MAX_BODY_BYTES (256 KiB),
parameters.maxTokens <= MAX_OUTPUT_TOKENS (4096), per-tenant and per-key requests and
tokens per minute (429 with `Retry-After` and `X-RateLimit-*`). Idempotency keys are
tenant-scoped and retained 24 h. Another tenant's request id answers 404.
"""


def create_app(settings: Settings | None = None, *, notifier: Notifier | None = None) -> FastAPI:
    """Build the app; resources open in the lifespan, so construction never connects.

    ``notifier``: completion notifications shared with a worker in the same process
    (`agatha local up`); by default the gateway opens its own.
    """
    settings = settings or get_settings()
    metrics = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        tracer_provider = configure_tracing(default_service=GATEWAY_SERVICE)
        try:
            with embedded_aws(settings) as resolved:
                async with open_gateway(resolved, metrics, notifier) as gateway:
                    app.state.gateway = gateway
                    yield
        finally:
            shutdown_tracing(tracer_provider)

    app = FastAPI(
        title="AgathaAI inference gateway",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's native server spans (W3C traceparent in, route-named) under the provider
        # configure_tracing installs. OTel logs off: they would carry validation inputs
        # (prompts); per-dependency spans off: db.insert/queue.send are the useful children.
        telemetry={"logs": False, "operation_spans": False},
    )
    app.include_router(inference.router)
    app.include_router(admin.router)
    app.include_router(health.router)
    install_handlers(app)
    # Innermost: CORS and the request context wrap the hot route as they wrap FastAPI.
    app.add_middleware(AcceptRoute, route=declared_accept_route(inference.router.routes))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=settings.cors_methods,
            allow_headers=settings.cors_headers,
            expose_headers=["Location", "Retry-After", "X-Request-ID", "X-RateLimit-Remaining"],
        )
    app.add_middleware(
        RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, metrics=metrics
    )
    return app
