"""The API gateway: FastAPI app accepting inference requests (202 + poll)."""

from __future__ import annotations

from app.gateway.app import create_app

__all__ = ["create_app"]
