"""The floor: a bare FastAPI endpoint answering 202, served exactly like the gateway.

.venv/bin/uvicorn --factory bench.floor:create_app --loop uvloop --http httptools
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse


def create_app() -> FastAPI:
    """One POST route with the gateway's path, no auth, no storage."""
    app = FastAPI()

    @app.post("/api/inference", status_code=202)
    async def accept() -> JSONResponse:
        return JSONResponse({"id": "req_floor", "status": "pending"}, status_code=202)

    @app.get("/healthz")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    return app
