"""A local HTTP server speaking each provider's real wire format, with scriptable failures.

Routes: OpenAI and Together ``POST /v1/chat/completions``, Anthropic ``POST /v1/messages``,
Google ``POST /v1[beta]/models/<model>:generateContent``. ``mode`` picks the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODES = ("ok", "rate_limited", "server_error", "timeout", "malformed", "unauthorized", "refusal")
RETRY_AFTER_SECONDS = "7"


@dataclass
class FakeProviderServer:
    """State of the fake: the current mode and every request it saw."""

    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    # When set, the chat route answers this (a new response per request) whatever the mode.
    chat_answer: Callable[[], web.Response] | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/messages", self._messages)
        # google-genai 3.x calls the v1 surface by default; older releases used v1beta.
        app.router.add_post("/v1beta/models/{action}", self._gemini)
        app.router.add_post("/v1/models/{action}", self._gemini)
        return app

    async def _record(self, request: web.Request) -> dict[str, Any]:
        body = await request.json()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(
            {"path": request.path, "headers": dict(request.headers), "json": body, "peer": peer}
        )
        if self.mode == "timeout":
            await self.release.wait()  # held until the test tears the server down
        return dict(body)

    async def _chat(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if self.chat_answer is not None:
            return self.chat_answer()
        error = _openai_error(self.mode)
        if error is not None:
            return error
        if self.mode == "malformed":
            return web.json_response({"id": "chatcmpl-1", "object": "chat.completion"})
        finish = "content_filter" if self.mode == "refusal" else "stop"
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Hello there", "refusal": None},
                        "finish_reason": finish,
                        "logprobs": None,
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
            }
        )

    async def _messages(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        status = _status(self.mode)
        if status is not None:
            kind = {429: "rate_limit_error", 500: "api_error", 401: "authentication_error"}[status]
            payload = {"type": "error", "error": {"type": kind, "message": f"fake {kind}"}}
            return web.json_response(payload, status=status, headers=_retry_headers(status))
        if self.mode == "malformed":
            return web.json_response({"id": "msg_1", "type": "message"})
        return web.json_response(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": "Hello there"}],
                "stop_reason": "refusal" if self.mode == "refusal" else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 5, "output_tokens": 2},
            }
        )

    async def _gemini(self, request: web.Request) -> web.Response:
        await self._record(request)
        status = _status(self.mode)
        if status is not None:
            name = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 401: "UNAUTHENTICATED"}[status]
            payload = {"error": {"code": status, "message": f"fake {name}", "status": name}}
            return web.json_response(payload, status=status, headers=_retry_headers(status))
        if self.mode == "malformed":
            return web.json_response({"candidates": []})
        finish = "SAFETY" if self.mode == "refusal" else "STOP"
        return web.json_response(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": "Hello there"}]},
                        "finishReason": finish,
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 5,
                    "candidatesTokenCount": 2,
                    "totalTokenCount": 7,
                },
                "modelVersion": request.match_info["action"].split(":")[0],
            }
        )


def _status(mode: str) -> int | None:
    return {"rate_limited": 429, "server_error": 500, "unauthorized": 401}.get(mode)


def _retry_headers(status: int) -> dict[str, str]:
    return {"Retry-After": RETRY_AFTER_SECONDS} if status == 429 else {}


def _openai_error(mode: str) -> web.Response | None:
    status = _status(mode)
    if status is None:
        return None
    code = {429: "rate_limit_exceeded", 500: "server_error", 401: "invalid_api_key"}[status]
    payload = {"error": {"message": f"fake {code}", "type": code, "param": None, "code": code}}
    return web.json_response(payload, status=status, headers=_retry_headers(status))
