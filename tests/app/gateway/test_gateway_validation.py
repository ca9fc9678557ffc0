"""Bad input: every validation answers 4xx naming the field and the limit; nothing queued."""

from __future__ import annotations

import json

import pytest

GOOD = {"prompt": "Hello", "model": "local-echo", "parameters": {}}


@pytest.mark.parametrize(
    ("body", "status", "field", "text"),
    [
        (GOOD | {"prompt": ""}, 422, "prompt", "at least 1"),
        (GOOD | {"prompt": "x" * 32_001}, 422, "prompt", "limit is 32000"),
        (GOOD | {"prompt": "bad\x00byte"}, 422, "prompt", "control characters"),
        (GOOD | {"prompt": "\ud800"}, 422, "prompt", "unicode"),
        (GOOD | {"prompt": 12}, 422, "prompt", "string"),
        (GOOD | {"model": "gpt-9-ultra"}, 422, "model", "not allowed"),
        (GOOD | {"parameters": {"temperature": 2.5}}, 422, "parameters.temperature", "2"),
        (GOOD | {"parameters": {"topP": 0}}, 422, "parameters.topP", "greater than 0"),
        (GOOD | {"parameters": {"maxTokens": 5000}}, 422, "parameters.maxTokens", "4096"),
        (GOOD | {"parameters": {"maxTokens": 0}}, 422, "parameters.maxTokens", "1"),
        (GOOD | {"parameters": {"stop": ["a"] * 5}}, 422, "parameters.stop", "4"),
        (GOOD | {"parameters": {"stop": ["x" * 65]}}, 422, "parameters.stop", "64"),
        (GOOD | {"parameters": {"bogus": 1}}, 422, "parameters.bogus", "not permitted"),
        (GOOD | {"extra": 1}, 422, "extra", "not permitted"),
        ({"model": "local-echo"}, 422, "prompt", "required"),
    ],
)
async def test_invalid_body_names_field_and_limit(harness, body, status, field, text) -> None:
    tenant = await harness.tenant()
    # json.dumps escapes lone surrogates (ensure_ascii), which httpx's encoder refuses.
    headers = harness.user_token(tenant) | {"Content-Type": "application/json"}
    response = await harness.client.post(
        "/api/inference", content=json.dumps(body), headers=headers
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert text in error["message"]
    assert harness.queued_messages() == []


async def test_body_over_the_cap_answers_413_and_queues_nothing(start_gateway) -> None:
    async with start_gateway(max_body_bytes=2048) as gw:
        tenant = await gw.tenant()
        response = await gw.client.post(
            "/api/inference", json=GOOD | {"prompt": "y" * 4000}, headers=gw.user_token(tenant)
        )
        assert response.status_code == 413
        assert "MAX_BODY_BYTES=2048" in response.json()["error"]["message"]
        assert gw.queued_messages() == []


async def test_overlong_idempotency_key_is_refused(harness) -> None:
    tenant = await harness.tenant()
    headers = harness.user_token(tenant) | {"Idempotency-Key": "k" * 201}
    response = await harness.client.post("/api/inference", json=GOOD, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "Idempotency-Key"


async def test_wait_parameter_is_bounded(harness) -> None:
    tenant = await harness.tenant()
    response = await harness.client.get(
        "/api/inference/req_x/result", params={"wait": 999}, headers=harness.user_token(tenant)
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "wait"


async def test_chunked_body_over_the_cap_answers_413(start_gateway) -> None:
    async def chunks():
        for _ in range(4):
            yield b"z" * 1024

    async with start_gateway(max_body_bytes=2048) as gw:
        tenant = await gw.tenant()
        headers = gw.user_token(tenant) | {"Content-Type": "application/json"}
        response = await gw.client.post("/api/inference", content=chunks(), headers=headers)
        assert response.status_code == 413
        assert gw.queued_messages() == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"prompt": "caf\xe9", "model": "local-echo"}',  # Latin-1, not UTF-8
        b"[" * 5000 + b"]" * 5000,  # deeper than the JSON decoder allows
    ],
    ids=["invalid-utf8", "deep-nesting"],
)
async def test_undecodable_body_answers_422_on_the_body_and_queues_nothing(
    harness, raw: bytes
) -> None:
    tenant = await harness.tenant()
    headers = harness.user_token(tenant) | {"Content-Type": "application/json"}
    response = await harness.client.post("/api/inference", content=raw, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == "body"
    assert harness.queued_messages() == []
