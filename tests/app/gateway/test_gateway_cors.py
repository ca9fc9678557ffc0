"""CORS: none by default; configured origins get preflight answers."""

from __future__ import annotations

PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "Authorization, Content-Type",
}


async def test_no_cors_headers_by_default(harness) -> None:
    response = await harness.client.options("/api/inference", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in response.headers


async def test_configured_origin_gets_a_preflight_answer(start_gateway) -> None:
    async with start_gateway(cors_origins=["https://app.example"]) as gw:
        allowed = await gw.client.options("/api/inference", headers=PREFLIGHT)
        other = await gw.client.options(
            "/api/inference", headers=PREFLIGHT | {"Origin": "https://evil.example"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in other.headers
