"""Bad-input battery: every hostile request gets its documented 4xx and nothing is stored
or queued (the tenant's row count, and the messages the gateway handed to SendMessageBatch,
grow by the accepted requests alone).

    .venv/bin/python -m bench.bad_inputs
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt

from bench.procs import ROOT
from bench.stack import MODEL, Stack, StackOptions, running_stack

RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Case:
    name: str
    expected: frozenset[int]
    body: bytes = b""
    token: str | None = None  # None: the tenant's valid token
    method: str = "POST"
    path: str = "/api/inference"


def _body(**fields: Any) -> bytes:
    return json.dumps({"prompt": "hello", "model": MODEL} | fields).encode()


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def forged_tokens(stack: Stack) -> dict[str, str]:
    """Tokens an attacker could send: alg none, wrong key, expired, other tenant's claims."""
    claims = {"iss": "agatha", "aud": "agatha-api", "sub": "x", "tenant": stack.tenant_id}
    valid_header = jwt.get_unverified_header(stack.token)
    kid = valid_header["kid"]
    future = {**claims, "exp": int(time.time()) + 600}
    return {
        "alg none": f"{_b64({'alg': 'none', 'kid': kid})}.{_b64(future)}.",
        "forged signature (wrong key)": jwt.encode(
            future, "x" * 48, algorithm="HS256", headers={"kid": kid}
        ),
        "expired token": jwt.encode(
            {**claims, "exp": int(time.time()) - 60},
            "x" * 48,
            algorithm="HS256",
            headers={"kid": kid},
        ),
        "unknown kid": jwt.encode(future, "x" * 48, algorithm="HS256", headers={"kid": "nope"}),
        "garbage bearer": "not-a-token",
        "revoked-looking api key": "agk_" + "A" * 43,
    }


BAD = frozenset({422})


def body_cases() -> list[Case]:
    """Malformed or out-of-limit bodies: 422 (413 when over MAX_BODY_BYTES)."""
    model = MODEL.encode()
    nested = b'{"prompt": "x", "model": "m", "parameters": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    return [
        Case("malformed JSON", BAD, b'{"prompt": "hi", "model": '),
        Case("JSON array body", BAD, b"[1, 2, 3]"),
        Case("empty body", BAD, b""),
        Case("missing prompt", BAD, json.dumps({"model": MODEL}).encode()),
        Case("unknown field", BAD, _body(admin=True)),
        Case("unknown model", BAD, _body(model="gpt-9-ultra")),
        Case("prompt over MAX_PROMPT_CHARS", BAD, _body(prompt="a" * 32_001)),
        Case("body over MAX_BODY_BYTES", frozenset({413}), _body(prompt="a" * 300_000)),
        Case("NUL / control characters", BAD, _body(prompt="hi\u0000there\u0007")),
        Case(
            "unpaired surrogate (JSON escape)",
            BAD,
            b'{"prompt": "x\\ud800y", "model": "' + model + b'"}',
        ),
        Case("invalid UTF-8 bytes", BAD, b'{"prompt": "\xff\xfe", "model": "' + model + b'"}'),
        Case("maxTokens over limit", BAD, _body(parameters={"maxTokens": 100_000})),
        Case("negative temperature", BAD, _body(parameters={"temperature": -1})),
        Case("unknown parameter", BAD, _body(parameters={"logitBias": {"1": 100}})),
        Case("wrong types", BAD, json.dumps({"prompt": 123, "model": ["x"]}).encode()),
        Case("deeply nested JSON", BAD, nested),
    ]


def access_cases(stack: Stack, foreign_id: str) -> list[Case]:
    """Missing/forged credentials (401) and other tenants' ids (404)."""
    own = f"/api/inference/{foreign_id}"
    battery = [
        Case("no credentials", frozenset({401}), _body(), token=""),
        Case("other tenant's id (GET)", frozenset({404}), method="GET", path=own),
        Case("other tenant's id (result)", frozenset({404}), method="GET", path=f"{own}/result"),
        Case("other tenant's id (DELETE)", frozenset({404}), method="DELETE", path=own),
        Case(
            "path injection id (GET)",
            frozenset({404, 422}),
            method="GET",
            path="/api/inference/..%2F..%2Fadmin",
        ),
    ]
    tokens = forged_tokens(stack).items()
    return battery + [Case(name, frozenset({401}), _body(), token=tok) for name, tok in tokens]


def cases(stack: Stack, foreign_id: str) -> list[Case]:
    """The battery; expected statuses are the ones documented in the OpenAPI description."""
    # Accepted on purpose: injection strings and unicode are data, stored verbatim, never run.
    accepted = [
        Case(
            "SQL injection string (accepted as text)",
            frozenset({202}),
            _body(prompt="'); DROP TABLE inference_requests; --"),
        ),
        Case(
            "unicode edge cases (accepted)",
            frozenset({202}),
            _body(prompt="\u202eevil\u200b \U0001f600 e\u0301 \ufeff"),
        ),
    ]
    return body_cases() + access_cases(stack, foreign_id) + accepted


async def send(
    session: aiohttp.ClientSession, base: str, case: Case, token: str
) -> tuple[int, dict[str, Any]]:
    bearer = token if case.token is None else case.token
    headers = {"Content-Type": "application/json"} | (
        {"Authorization": f"Bearer {bearer}"} if bearer else {}
    )
    async with session.request(
        case.method, base + case.path, data=case.body or None, headers=headers
    ) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, {"raw": text[:200]}


async def rows_for_tenant(stack: Stack) -> int:
    import sqlalchemy as sa

    from app.db.engine import create_engine_for
    from app.db.models import InferenceRequest

    table: Any = InferenceRequest.__table__
    engine = create_engine_for(stack.database_url)
    try:
        async with engine.connect() as conn:
            query = sa.select(sa.func.count()).where(table.c.tenant_id == stack.tenant_id)
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


def messages_sent(stack: Stack) -> int:
    """Messages the gateway has handed to SendMessageBatch so far (its /metrics; one
    gateway serves the battery). Counted per batch before any request's 202."""
    from bench.gateway_bench import queue_batch_stats

    return int(queue_batch_stats(stack.gateway_url)["messages"])


async def foreign_request(stack: Stack, session: aiohttp.ClientSession) -> str:
    """A request id owned by another tenant (created through the gateway)."""
    from bench.stack import seed_tenant, sign_token

    other, _ = await seed_tenant(stack.database_url, rpm=600, tpm=10**6)
    token = sign_token(stack.env["AWS_ENDPOINT_URL"], stack.env["JWT_SIGNING_SECRET_ARN"], other)
    status, payload = await send(
        session, stack.gateway_url, Case("setup", frozenset({202}), _body()), token
    )
    assert status == 202, payload
    return str(payload["id"])


async def run_battery(stack: Stack) -> dict[str, Any]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        battery = cases(stack, await foreign_request(stack, session))
    # Messages are counted as the gateway sent them (its /metrics), not as queue depth:
    # a running worker drains the queue while the battery runs.
    rows_before, sent_before = await rows_for_tenant(stack), messages_sent(stack)
    results = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for case in battery:
            status, payload = await send(session, stack.gateway_url, case, stack.token)
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            results.append(
                {
                    "case": case.name,
                    "status": status,
                    "expected": sorted(case.expected),
                    "ok": status in case.expected,
                    "code": error.get("code"),
                }
            )
    accepted = sum(1 for r in results if r["status"] == 202)
    rows_after, sent_after = await rows_for_tenant(stack), messages_sent(stack)
    return {
        "cases": results,
        "all_as_documented": all(r["ok"] for r in results),
        "rows_added": rows_after - rows_before,
        "messages_added": sent_after - sent_before,
        "accepted_on_purpose": accepted,
        "nothing_else_stored": rows_after - rows_before == accepted
        and sent_after - sent_before == accepted,
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "bad_inputs.json")
    args = parser.parse_args(argv)
    with running_stack(StackOptions(), RESULTS / "tmp" / "bad_inputs") as stack:
        result = asyncio.run(run_battery(stack))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
