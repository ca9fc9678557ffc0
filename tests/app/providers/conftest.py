"""Provider test fixtures: the fake provider server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.app.providers.fakes import FakeProviderServer


@pytest.fixture
async def fake_server() -> AsyncIterator[tuple[FakeProviderServer, str]]:
    fake = FakeProviderServer()
    runner = web.AppRunner(fake.app(), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield fake, f"http://127.0.0.1:{port}"
    fake.release.set()
    await runner.cleanup()
