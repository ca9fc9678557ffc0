"""Fake OpenAI-compatible upstream with fixed latency and switchable faults.

``POST /v1/chat/completions`` answers after ``latency`` seconds like OpenAI does. The
mode (``ok``, ``429``, ``500``, ``timeout``) and latency change at run time through
``POST /_control {"mode": ..., "latency": ...}``; ``GET /_stats`` counts calls and
successful answers per prompt, so a drill can prove no request was served twice.

    .venv/bin/python -m bench.fakes --port 9100 --latency 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODES = frozenset({"ok", "429", "500", "timeout"})
TIMEOUT_HOLD_SECONDS = 120.0
MAX_LISTED_DUPLICATES = 50


@dataclass
class Upstream:
    """The fake's state: behaviour knobs and what it has served."""

    latency: float = 0.2
    mode: str = "ok"
    calls: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    served: Counter[str] = field(default_factory=Counter)
    called: Counter[str] = field(default_factory=Counter)

    def stats(self, prefix: str = "") -> dict[str, Any]:
        """Counters, restricted to prompts starting with ``prefix`` where per prompt."""
        served = Counter({p: n for p, n in self.served.items() if p.startswith(prefix)})
        duplicates = [p for p, n in served.items() if n > 1]
        return {
            "calls": self.calls,
            "calls_for_prefix": sum(n for p, n in self.called.items() if p.startswith(prefix)),
            "by_status": dict(self.by_status),
            "served_prompts": len(served),
            "duplicate_successes": sum(served[p] - 1 for p in duplicates),
            "duplicate_prompts": duplicates[:MAX_LISTED_DUPLICATES],
            "mode": self.mode,
            "latency": self.latency,
        }


UPSTREAM = web.AppKey("upstream", Upstream)


def completion(model: str, prompt: str) -> dict[str, Any]:
    """An OpenAI chat.completion object answering ``prompt``."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": f"echo: {prompt[:64]}"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12},
    }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": "fake_error", "code": str(status)}}
    return web.json_response(body, status=status, headers=headers)


async def _chat(request: web.Request) -> web.Response:
    upstream: Upstream = request.app[UPSTREAM]
    upstream.calls += 1
    payload = await request.json()
    prompt = str(payload.get("messages", [{}])[-1].get("content", ""))
    upstream.called[prompt] += 1
    mode = upstream.mode
    if mode == "timeout":
        await asyncio.sleep(TIMEOUT_HOLD_SECONDS)
    if upstream.latency:
        await asyncio.sleep(upstream.latency)
    if mode == "429":
        upstream.by_status["429"] += 1
        return _error(429, "rate limited (fake)", {"Retry-After": "1"})
    if mode == "500":
        upstream.by_status["500"] += 1
        return _error(500, "internal error (fake)")
    upstream.by_status["200"] += 1
    upstream.served[prompt] += 1
    return web.json_response(completion(str(payload.get("model", "fake")), prompt))


async def _control(request: web.Request) -> web.Response:
    upstream: Upstream = request.app[UPSTREAM]
    payload = await request.json()
    mode = str(payload.get("mode", upstream.mode))
    if mode not in MODES:
        return _error(400, f"mode must be one of {sorted(MODES)}")
    upstream.mode = mode
    upstream.latency = float(payload.get("latency", upstream.latency))
    return web.json_response(upstream.stats())


async def _stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[UPSTREAM].stats(request.query.get("prefix", "")))


async def _models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]})


def create_app(upstream: Upstream | None = None) -> web.Application:
    """The fake as an aiohttp application."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[UPSTREAM] = upstream or Upstream()
    for prefix in ("", "/v1"):
        app.router.add_post(f"{prefix}/chat/completions", _chat)
        app.router.add_get(f"{prefix}/models", _models)
    app.router.add_post("/_control", _control)
    app.router.add_get("/_stats", _stats)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve the fake on 127.0.0.1 until killed."""
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args(argv)
    uvloop.install()
    app = create_app(Upstream(latency=args.latency))
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
