"""Client-side CPU of each hot-path operation in isolation, with the app's own code.

The gateway's accept path (JWT, limiter, insert, SQS sends), the worker's archive put
(through the S3 client, and signed over aiohttp: app/archive/signed_put.py) and the
reading of a provider's chat completion (the SDK's model, or the decoded JSON that
app/providers/openai.py reads), and the provider call itself (the adapter, and a bare
aiohttp POST for reference).

Each operation runs N times sequentially in this process (uvloop) against the private
services; CPU is this process's utime+stime around the loop. Complements the py-spy
profile: the profile shows shares under load, this shows each call's floor.

    .venv/bin/python -m bench.microbench --n 300
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procs import ROOT
from bench.procstat import load_average

RESULTS = ROOT / "bench" / "results"
Op = Callable[[int], Awaitable[Any]]


async def time_op(name: str, op: Op, n: int) -> dict[str, Any]:
    """CPU and wall microseconds per call of ``op`` (after 20 warm-up calls)."""
    for i in range(20):
        await op(-1 - i)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        await op(i)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "operation": name,
        "n": n,
        "cpu_us": round(cpu / n * 1e6, 1),
        "wall_us": round(wall / n * 1e6, 1),
    }


def _new_request(tenant_id: str) -> Any:
    from app.db import requests as store
    from app.gateway.ids import new_request_id

    return store.NewRequest(
        id=new_request_id(),
        tenant_id=tenant_id,
        api_key_id=None,
        model="gpt-4o-mini",
        prompt="hello",
        parameters={},
        idempotency_key=None,
        request_hash="h",
        created_at=datetime.now(UTC),
    )


async def operations(stack: Any) -> dict[str, Op]:
    """One callable per hot-path operation, wired like ``open_gateway`` wires them."""
    from redis.asyncio import Redis

    from app.db import requests as store
    from app.db.engine import create_engine_for, statement_lease_for
    from app.gateway.state import _keyring
    from app.ratelimit.base import rules_for
    from app.ratelimit.redis import RedisRateLimiter
    from app.settings import Settings

    settings = Settings(
        **{k.lower(): v for k, v in stack.env.items() if k.lower() in Settings.model_fields}
    )
    keyring = _keyring(settings)
    keyring.refresh()
    engine = create_engine_for(stack.database_url)
    lease = statement_lease_for(engine, size=4)
    inserts = store.PendingInserts(lease) if lease else None  # as the gateway's accept path
    limiter = RedisRateLimiter(Redis.from_url(stack.redis.url))
    rules = rules_for(
        tenant_id=stack.tenant_id,
        key_id=None,
        tenant_rpm=10**9,
        tenant_tpm=10**9,
        key_rpm=10**9,
        key_tpm=10**9,
        tokens=10,
    )

    # Distinct tokens: a repeated token is answered from the key ring's verified cache.
    fresh = _distinct_tokens(stack, 400)

    async def verify(i: int) -> Any:
        return keyring.verify(fresh[i % len(fresh)])

    async def verify_cached(_: int) -> Any:
        return keyring.verify(stack.token)

    async def limit(_: int) -> Any:
        return await limiter.check(rules)

    async def insert(_: int) -> Any:
        return await store.insert_pending(engine, _new_request(stack.tenant_id), inserts=inserts)

    # One trivial statement on the driver, three ways to get a connection for it: what a
    # checkout costs (the worker's grouped statements moved from the first to the second).
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    one = "SELECT $1::int"

    async def via_pool(i: int) -> Any:
        async with autocommit.connect() as conn:
            raw: Any = await conn.get_raw_connection()
            return await raw.driver_connection.fetch(one, i)

    async def via_lease(i: int) -> Any:
        assert lease is not None
        async with lease.connection() as conn:
            return await conn.fetch(one, i)

    return {
        "jwt verify (new token)": verify,
        "jwt verify (repeated token, cached)": verify_cached,
        "rate limit (EVALSHA)": limit,
        "insert (asyncpg, grouped on a leased connection)": insert,
        "statement, SQLAlchemy pool checkout + raw driver": via_pool,
        "statement, leased bare asyncpg connection": via_lease,
    }


def _distinct_tokens(stack: Any, count: int) -> list[str]:
    """``count`` valid JWTs of the bench tenant that differ only in ``exp``."""
    import time as clock

    import jwt

    from app.aws import read_secret_json
    from app.settings import Settings

    settings = Settings(aws_endpoint_url=stack.env["AWS_ENDPOINT_URL"])
    keys = read_secret_json(settings, stack.env["JWT_SIGNING_SECRET_ARN"])["keys"]
    key = next(k for k in keys if k.get("status", "current") == "current")
    claims = {"iss": "agatha", "aud": "agatha-api", "sub": "bench-user", "tenant": stack.tenant_id}
    now = int(clock.time())
    return [
        jwt.encode(
            claims | {"exp": now + 3600 + i},
            key["secret"],
            algorithm=key.get("alg", "HS256"),
            headers={"kid": key["kid"]},
        )
        for i in range(count)
    ]


async def sqs_ops(stack: Any, n: int) -> list[dict[str, Any]]:
    """SendMessageBatch of 1 and of 10 through aiobotocore (moto answers both)."""
    from app.aws import aio_session, client_kwargs
    from app.queue.sender import job_body
    from app.settings import Settings

    kwargs = client_kwargs(Settings(aws_endpoint_url=stack.env["AWS_ENDPOINT_URL"]))
    queue = stack.env["QUEUE_URL"]
    body = job_body(request_id="req_" + uuid.uuid4().hex, tenant_id=stack.tenant_id)
    async with aio_session().create_client("sqs", **kwargs) as sqs:

        async def batch(size: int) -> Any:
            entries = [{"Id": str(i), "MessageBody": body} for i in range(size)]
            return await sqs.send_message_batch(QueueUrl=queue, Entries=entries)

        one = await time_op("SQS batch of 1 (per message)", lambda _: batch(1), n // 3)
        ten = await time_op("SQS batch of 10 (per batch)", lambda _: batch(10), n // 10)
    ten["per_message_cpu_us"] = round(ten["cpu_us"] / 10, 1)
    return [one, ten]


async def archive_ops(stack: Any, n: int) -> list[dict[str, Any]]:
    """One archive record put through the S3 client, then through the signed path."""
    from contextlib import AsyncExitStack

    from app.archive.s3 import Archiver, ArchiveRecord
    from app.archive.signed_put import open_signed_put
    from app.aws import aio_session, client_kwargs
    from app.settings import Settings

    kwargs = client_kwargs(Settings(aws_endpoint_url=stack.env["AWS_ENDPOINT_URL"]))
    bucket = stack.env["ARCHIVE_BUCKET"]
    now = datetime.now(UTC)

    def record(i: int) -> ArchiveRecord:
        return ArchiveRecord(
            request_id=f"req_micro_{i}",
            tenant_id=stack.tenant_id,
            model="gpt-4o-mini",
            provider="openai",
            prompt="hello " * 40,
            parameters={},
            response="world " * 60,
            created_at=now,
            completed_at=now,
        )

    session = aio_session()
    async with AsyncExitStack() as exits:
        s3 = await exits.enter_async_context(session.create_client("s3", **kwargs))
        signed = await open_signed_put(
            exits, session=session, s3_client=s3, client_kwargs=kwargs, bucket=bucket
        )
        client = Archiver(s3_client=s3, bucket=bucket)
        if signed is None:
            raise RuntimeError("the signed path is off (an HTTP proxy is set); unset it")
        fast = Archiver(s3_client=s3, bucket=bucket, signed_put=signed)
        rows = [
            await time_op("archive put, S3 client", lambda i: client.put(record(i)), n),
            await time_op("archive put, signed", lambda i: fast.put(record(i)), n),
        ]
    if signed.declined:
        raise RuntimeError(f"{signed.declined} signed puts fell back to the client; see the log")
    return rows


CHAT_COMPLETION = {
    "id": "chatcmpl-micro",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "world " * 60, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 41, "completion_tokens": 60, "total_tokens": 101},
    "system_fingerprint": "fp_micro",
}


async def provider_answer_ops(n: int) -> list[dict[str, Any]]:
    """Reading one decoded chat completion: as the SDK's model, and as the JSON itself.

    ``construct_type`` is what the SDK runs on the decoded body for ``cast_to``; the
    adapter then reads the same five fields either way (``parse_chat_completion``).
    """
    from openai._models import construct_type
    from openai.types.chat import ChatCompletion

    from app.providers._stainless import parse_chat_completion

    def read(cast_to: type) -> Op:
        async def op(_: int) -> Any:
            answer = construct_type(type_=cast_to, value=CHAT_COMPLETION)
            return parse_chat_completion(answer, provider="openai", model="gpt-4o-mini")

        return op

    return [
        await time_op("provider answer, SDK model", read(ChatCompletion), n),
        await time_op("provider answer, decoded JSON", read(object), n),
    ]


async def provider_call_ops(stack: Any, n: int) -> list[dict[str, Any]]:
    """One chat completion against the fake (no latency): through the app's OpenAI
    adapter (the SDK over its aiohttp transport), and as one bare aiohttp POST of the same
    body with the answer decoded (a reference floor for the HTTP work alone, not a path
    the app has). The difference is what the SDK's layers (and the adapter's small error
    guard and answer parsing) cost per call."""
    import aiohttp

    from app.providers.base import CompletionRequest
    from app.providers.openai import OpenAIProvider, chat_messages

    base_url = f"{stack.fake_url}/v1"
    key = "sk-bench"

    def request(i: int) -> CompletionRequest:
        return CompletionRequest(model="gpt-4o-mini", prompt=f"micro {i}", max_tokens=16)

    provider = OpenAIProvider(api_key=key, base_url=base_url)
    latency = stack.fake_stats()["latency"]
    stack.fake_control(latency=0)
    try:
        async with aiohttp.ClientSession() as http:

            async def bare(i: int) -> Any:
                r = request(i)
                body = {
                    "model": r.model,
                    "messages": chat_messages(r),
                    "max_completion_tokens": r.max_tokens,
                }
                headers = {"Authorization": f"Bearer {key}"}
                url = f"{base_url}/chat/completions"
                async with http.post(url, json=body, headers=headers) as answer:
                    answer.raise_for_status()
                    return await answer.json()

            async def sdk(i: int) -> Any:
                return await provider.complete(request(i), timeout=10)

            return [
                await time_op("provider call, OpenAI SDK (app adapter)", sdk, n),
                await time_op("provider call, bare aiohttp POST (reference)", bare, n),
            ]
    finally:
        try:
            stack.fake_control(latency=latency)
        finally:
            await provider.aclose()


async def run(stack: Any, n: int) -> list[dict[str, Any]]:
    rows = [await time_op(name, op, n) for name, op in (await operations(stack)).items()]
    rows += await sqs_ops(stack, n) + await archive_ops(stack, n)
    return rows + await provider_answer_ops(n) + await provider_call_ops(stack, n)


def main(argv: list[str] | None = None) -> None:
    import uvloop

    from bench.gateway_bench import draining
    from bench.stack import StackOptions, running_stack

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS / "microbench.json")
    args = parser.parse_args(argv)
    with (
        running_stack(StackOptions(gateways=0), RESULTS / "tmp" / "micro") as stack,
        draining(stack),
    ):
        load = load_average()
        rows = uvloop.run(run(stack, args.n))
    result = {"load_average_before": [round(x, 2) for x in load], "operations": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
