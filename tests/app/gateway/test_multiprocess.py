"""Two real gateway processes (uvicorn) sharing one PostgreSQL database and one Redis.

The in-process tests run two app instances in one interpreter; these start the gateway
the way the image does, so nothing can be shared through module state by accident.
SQS and Secrets Manager are the session's moto server, reached over 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.api_keys import generate_key
from app.db import accounts
from app.local_aws import create_local_resources
from app.settings import Settings
from tests.app.gateway.uvicorn_procs import (
    GatewayProcess,
    child_environment,
    group_alive,
    running_gateways,
    stop,
)

KEY_REQUESTS_PER_MINUTE = 7  # small, so a burst of twice that is over it for ~8 s of refill
REVOCATION_DEADLINE_SECONDS = 1.0  # the contract: revocation reaches every process in 1 s
POLL_SECONDS = 0.02
BODY = {"prompt": "Hi", "model": "local-echo", "parameters": {"maxTokens": 10}}

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module")
def gateway_env(moto_server: str, migrated_pg_url: str, redis_url: str) -> dict[str, str]:
    """Environment of both processes: fresh queue/secret in moto, shared PostgreSQL + Redis."""
    aws = Settings(agatha_env="test", aws_endpoint_url=moto_server, aws_region="us-east-1")
    created = create_local_resources(aws, prefix=f"mp-{uuid.uuid4().hex[:10]}")
    return {
        "AGATHA_ENV": "test",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": migrated_pg_url,
        "REDIS_URL": redis_url,
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "QUEUE_URL": created.queue_url,
        "DLQ_URL": created.dlq_url,
        "ARCHIVE_BUCKET": created.archive_bucket,
        "JWT_SIGNING_SECRET_ARN": created.jwt_signing_secret_arn,
        "RATE_LIMIT_KEY_REQUESTS_PER_MINUTE": str(KEY_REQUESTS_PER_MINUTE),
        # The production default, stated: revocation must not wait for the key cache to expire.
        "API_KEY_CACHE_SECONDS": "30",
    }


@pytest.fixture(scope="module")
def gateways(
    gateway_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[GatewayProcess]]:
    """Processes A and B, ready; terminated (and proven gone) at module teardown."""
    log_dir = tmp_path_factory.mktemp("gateway-logs")
    with running_gateways(["a", "b"], env=child_environment(gateway_env), log_dir=log_dir) as gws:
        yield gws


async def new_tenant_with_admin_key(database_url: str) -> tuple[str, str]:
    """A fresh tenant (default limits) and an admin API key for it, written to the database.

    Bootstrapping is an operator's step, not an HTTP route; ``agatha.local.demo`` does the
    same for its single fixed demo tenant, which tests cannot share without coupling.
    """
    tenant_id = f"t_mp_{uuid.uuid4().hex[:12]}"
    new = generate_key()
    engine = create_async_engine(database_url)
    try:
        await accounts.create_tenant(engine, tenant_id=tenant_id, name="multiprocess test")
        await accounts.insert_api_key(
            engine,
            {
                "id": new.key_id,
                "tenant_id": tenant_id,
                "key_hash": new.key_hash,
                "prefix": new.prefix,
                "role": "admin",
                "name": "bootstrap admin",
                "requests_per_minute": None,
            },
        )
    finally:
        await engine.dispose()
    return tenant_id, new.plaintext


async def stored_request_count(database_url: str, tenant_id: str) -> int:
    """Rows in inference_requests for the tenant (nothing is stored for a refused request)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM inference_requests WHERE tenant_id = :t")
            return int((await conn.execute(query, {"t": tenant_id})).scalar_one())
    finally:
        await engine.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def create_user_key(
    client: httpx.AsyncClient, admin_key: str, *, requests_per_minute: int | None = None
) -> tuple[str, str]:
    """(key id, plaintext) of a new user key created through the admin route."""
    body: dict[str, object] = {"name": "multiprocess user", "role": "user"}
    if requests_per_minute is not None:
        body["requestsPerMinute"] = requests_per_minute
    response = await client.post("/api/admin/keys", json=body, headers=bearer(admin_key))
    assert response.status_code == 201, response.text
    created = response.json()
    return created["id"], created["key"]


async def seconds_until_refused(
    client: httpx.AsyncClient, method: str, url: str, *, key: str, deadline: float
) -> float | None:
    """Repeat the call until it answers 401; seconds taken, or None if the deadline passed."""
    started = time.monotonic()
    while time.monotonic() < started + deadline:
        json = BODY if method == "POST" else None
        response = await client.request(method, url, json=json, headers=bearer(key))
        if response.status_code == 401:
            assert response.json()["error"]["code"] == "unauthenticated"
            return time.monotonic() - started
        assert response.status_code in (200, 202), response.text
        await asyncio.sleep(POLL_SECONDS)  # poll interval of a bounded loop, not a wait-for
    return None


async def test_key_revoked_on_one_process_is_refused_by_the_other_within_one_second(
    gateways: list[GatewayProcess], migrated_pg_url: str
) -> None:
    a, b = gateways
    _, admin_key = await new_tenant_with_admin_key(migrated_pg_url)
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b.base_url, timeout=10) as on_b,
    ):
        key_id, key = await create_user_key(on_a, admin_key, requests_per_minute=10_000)
        # B authenticates the key once, so its key cache holds the row as valid.
        assert (
            await on_b.post("/api/inference", json=BODY, headers=bearer(key))
        ).status_code == 202

        revoked = await on_a.delete(f"/api/admin/keys/{key_id}", headers=bearer(admin_key))
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked"] is True
        elapsed = await seconds_until_refused(
            on_b, "POST", "/api/inference", key=key, deadline=REVOCATION_DEADLINE_SECONDS
        )
        assert elapsed is not None, "process B still accepted the revoked key after 1 s"
        assert (
            await on_a.post("/api/inference", json=BODY, headers=bearer(key))
        ).status_code == 401


async def test_key_revoked_on_one_process_is_refused_on_reads_by_the_other_within_one_second(
    gateways: list[GatewayProcess], migrated_pg_url: str
) -> None:
    a, b = gateways
    _, admin_key = await new_tenant_with_admin_key(migrated_pg_url)
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b.base_url, timeout=10) as on_b,
    ):
        key_id, key = await create_user_key(on_a, admin_key, requests_per_minute=10_000)
        submitted = await on_a.post("/api/inference", json=BODY, headers=bearer(key))
        assert submitted.status_code == 202, submitted.text
        status_url = f"/api/inference/{submitted.json()['id']}"
        assert (await on_b.get(status_url, headers=bearer(key))).status_code == 200

        revoked = await on_a.delete(f"/api/admin/keys/{key_id}", headers=bearer(admin_key))
        assert revoked.status_code == 200, revoked.text
        elapsed = await seconds_until_refused(
            on_b, "GET", status_url, key=key, deadline=REVOCATION_DEADLINE_SECONDS
        )
        assert elapsed is not None, "process B still served reads with the revoked key after 1 s"


async def test_two_processes_sharing_redis_admit_exactly_the_key_limit(
    gateways: list[GatewayProcess], migrated_pg_url: str
) -> None:
    a, b = gateways
    tenant_id, admin_key = await new_tenant_with_admin_key(migrated_pg_url)
    total = 2 * KEY_REQUESTS_PER_MINUTE + 2
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b.base_url, timeout=10) as on_b,
    ):
        # No per-key value: the key takes RATE_LIMIT_KEY_REQUESTS_PER_MINUTE from the env.
        _, key = await create_user_key(on_a, admin_key)
        clients = [on_a, on_b] * (total // 2)
        responses = await asyncio.gather(
            *(c.post("/api/inference", json=BODY, headers=bearer(key)) for c in clients)
        )

    codes = [r.status_code for r in responses]
    assert codes.count(202) == KEY_REQUESTS_PER_MINUTE, codes
    assert codes.count(429) == total - KEY_REQUESTS_PER_MINUTE, codes
    for refused in (r for r in responses if r.status_code == 429):
        assert refused.json()["error"]["code"] == "rate_limited"
        assert "key requests per minute" in refused.json()["error"]["message"]
        assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert await stored_request_count(migrated_pg_url, tenant_id) == KEY_REQUESTS_PER_MINUTE


def test_stop_kills_a_process_that_ignores_sigterm() -> None:
    ignores_term = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", ignores_term], stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    # Only once the handler is installed does SIGTERM exercise the SIGKILL fallback.
    assert process.stdout.readline().strip() == b"ready"
    process.stdout.close()

    assert stop(process, timeout=0.5) == -signal.SIGKILL
    assert not group_alive(process.pid)
