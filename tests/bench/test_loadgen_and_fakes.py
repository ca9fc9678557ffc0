"""The load generator against the fake upstream, in-process on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bench.fakes import Upstream, create_app
from bench.loadgen import LoadSpec, run_load


@pytest.fixture
async def fake() -> AsyncIterator[tuple[str, Upstream]]:
    upstream = Upstream(latency=0.0)
    runner = web.AppRunner(create_app(upstream))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", upstream
    await runner.cleanup()


def chat_body() -> str:
    return json.dumps({"model": "m", "messages": [{"role": "user", "content": "p {i}"}]})


async def test_closed_loop_sends_exactly_max_requests(fake: tuple[str, Upstream]) -> None:
    url, upstream = fake
    spec = LoadSpec(
        url=f"{url}/v1/chat/completions",
        body=chat_body(),
        concurrency=4,
        duration=10,
        max_requests=20,
    )
    run = await run_load(spec)
    summary = run.summary()
    assert summary["statuses"] == {"200": 20}
    assert upstream.stats()["served_prompts"] == 20  # {i} made every prompt unique
    assert upstream.stats()["duplicate_successes"] == 0


async def test_open_loop_records_retry_after_of_refusals(fake: tuple[str, Upstream]) -> None:
    url, upstream = fake
    upstream.mode = "429"
    spec = LoadSpec(
        url=f"{url}/chat/completions", body=chat_body(), concurrency=8, duration=0.5, rate=20
    )
    run = await run_load(spec)
    assert run.records and all(r.status == 429 for r in run.records)
    assert all(r.retry_after == "1" for r in run.records)


async def test_fake_counts_a_prompt_served_twice_as_duplicate(fake: tuple[str, Upstream]) -> None:
    url, _ = fake
    body = {"model": "m", "messages": [{"role": "user", "content": "same"}]}
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.post(f"{url}/v1/chat/completions", json=body) as response:
                assert response.status == 200
        async with session.post(f"{url}/_control", json={"mode": "bogus"}) as response:
            assert response.status == 400
        async with session.get(f"{url}/_stats?prefix=same") as response:
            stats = await response.json()
    assert stats["duplicate_successes"] == 1
    assert stats["duplicate_prompts"] == ["same"]


async def test_client_timeout_is_recorded_as_a_hang(fake: tuple[str, Upstream]) -> None:
    url, upstream = fake
    upstream.latency = 5.0
    spec = LoadSpec(
        url=f"{url}/chat/completions",
        body=chat_body(),
        concurrency=2,
        duration=5,
        max_requests=2,
        timeout=0.3,
    )
    summary = (await run_load(spec)).summary()
    assert summary["timeouts"] == 2
