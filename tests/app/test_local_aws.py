"""The embedded platform: with nothing configured the gateway runs on moto + SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.gateway import create_app
from app.gateway.ids import is_request_id, new_request_id
from app.settings import Settings


async def test_gateway_starts_with_nothing_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ENDPOINT_URL", "QUEUE_URL", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(Settings(local_data_dir=tmp_path / ".agatha", log_level="ERROR"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            ready = await client.get("/readyz")
        gateway = app.state.gateway
        assert gateway.settings.aws_endpoint_url.startswith("http://127.0.0.1:")
        assert gateway.settings.queue_url.endswith("/agatha-local-jobs")
    assert ready.status_code == 200, ready.text
    assert (tmp_path / ".agatha" / "agatha.db").exists()


def test_request_ids_have_the_public_format() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100 and all(is_request_id(i) and len(i) == 30 for i in ids)
