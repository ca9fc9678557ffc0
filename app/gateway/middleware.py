"""Pure-ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path).

``RequestContextMiddleware``: request id (X-Request-ID in and out), body size cap,
latency/status metrics and one access-log line per request.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge
from app.gateway.metrics import GatewayMetrics

SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
LOG = structlog.get_logger("agatha.gateway.access")
MAX_LABEL_SETS = 1_000


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    """Request id, body cap, metrics and access logs around every HTTP request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: GatewayMetrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        # (route, method, status) -> (counter, histogram) children: ``labels()`` takes a
        # lock and builds a key on every call; the label sets are few (route templates).
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and SAFE_REQUEST_ID.match(incoming) else None
        request_id = request_id or secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = {"code": 500}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            body_receive = await self._capped(scope, receive)
            if body_receive is None:
                await self._too_large(request_id, send_with_id)
            else:
                await self.app(scope, body_receive, send_with_id)
        finally:
            self._observe(scope, status["code"], time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")

    async def _capped(self, scope: Scope, receive: Receive) -> Receive | None:
        """``receive`` if the body fits the cap (None otherwise), checked before routing."""
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit():
            return receive if int(declared) <= self.max_body_bytes else None
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return receive
        # Chunked upload: buffer up to the cap (bounded memory), then replay it.
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return receive
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return None
            more = message.get("more_body", False)
        replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks)}]

        async def replayed() -> Message:
            return replay.pop() if replay else await receive()

        return replayed

    async def _too_large(self, request_id: str, send: Send) -> None:
        error = PayloadTooLarge(f"request body exceeds MAX_BODY_BYTES={self.max_body_bytes} bytes")
        body = json.dumps(
            {"error": {"code": error.code, "message": error.message, "requestId": request_id}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status_code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        key = (template, scope["method"], str(status))
        children = self._children.get(key)
        if children is None:
            if len(self._children) >= MAX_LABEL_SETS:
                self._children.clear()
            children = (self.metrics.requests.labels(*key), self.metrics.latency.labels(template))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        LOG.info(
            "request",
            method=scope["method"],
            route=template,
            status=status,
            ms=round(seconds * 1000, 3),
        )
