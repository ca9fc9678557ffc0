"""The platform as production runs it, on 127.0.0.1, for benchmarks and drills.

Private PostgreSQL + Redis, the emulator in its own process, the fake provider, then
gateway(s) under uvicorn (uvloop, httptools) from ``app.gateway.app:create_app`` and
worker(s) from ``python -m app.worker.runtime``, all with ``AGATHA_ENV=prod`` settings
passed as environment variables (the compute component's contract).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.worker.config import WorkerSettings
from bench.procs import PYTHON, Proc, Procs, free_port, procs, wait_for_port
from bench.services import PrivatePostgres, PrivateRedis, private_postgres, private_redis

UVICORN = [PYTHON, "-m", "uvicorn", "--host", "127.0.0.1", "--loop", "uvloop"]
UVICORN_TAIL = ["--http", "httptools", "--no-access-log", "--log-level", "warning"]
MODEL = "gpt-4o-mini"
BENCH_KEY = "bench-upstream-key-not-a-placeholder"
START_TIMEOUT = 90.0
# WORKER_INTERRUPTED_CALLS the benches run with unless told otherwise: the worker's own.
DEFAULT_INTERRUPTED_CALLS: str = WorkerSettings.model_fields["worker_interrupted_calls"].default


@dataclass(frozen=True)
class StackOptions:
    """Which parts to run and how they are tuned."""

    gateways: int = 1
    workers: int = 0
    fake_latency: float = 0.2
    log_level: str = "INFO"
    worker_env: dict[str, str] = field(default_factory=dict)
    gateway_env: dict[str, str] = field(default_factory=dict)
    tenant_rpm: int = 1_000_000_000
    tenant_tpm: int = 1_000_000_000


@dataclass
class Stack:
    """A running platform and what a client needs to use it."""

    registry: Procs
    options: StackOptions
    pg: PrivatePostgres
    redis: PrivateRedis
    database_url: str
    moto_port: int
    fake_port: int
    moto: Proc | None = None
    fake: Proc | None = None
    env: dict[str, str] = field(default_factory=dict)
    gateways: list[tuple[Proc, int]] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    tenant_id: str = ""
    token: str = ""
    api_key: str = ""

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateways[0][1]}"

    @property
    def fake_url(self) -> str:
        return f"http://127.0.0.1:{self.fake_port}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start_gateway(self, extra_env: dict[str, str] | None = None) -> tuple[Proc, int]:
        port = free_port()
        env = {**self.env, **self.options.gateway_env, **(extra_env or {})}
        argv = [*UVICORN, "--port", str(port), *UVICORN_TAIL]
        proc = self.registry.spawn(
            f"gateway-{port}", [*argv, "--factory", "app.gateway.app:create_app"], env=env
        )
        wait_for_port(port, timeout=START_TIMEOUT, proc=proc)
        self.gateways.append((proc, port))
        return proc, port

    def start_worker(self) -> Proc:
        env = {
            **self.env,
            "OPENAI_BASE_URL": f"{self.fake_url}/v1",
            "OPENAI_API_KEY": BENCH_KEY,
            **self.options.worker_env,
        }
        name = f"worker-{len(self.workers)}-{uuid.uuid4().hex[:4]}"
        proc = self.registry.spawn(name, [PYTHON, "-m", "app.worker.runtime"], env=env)
        self.workers.append(proc)
        return proc

    def start_moto(self) -> None:
        self.moto = self.registry.spawn(
            f"moto-{self.moto_port}",
            [PYTHON, "-m", "bench.moto_server", "--port", str(self.moto_port)],
        )
        wait_for_port(self.moto_port, timeout=START_TIMEOUT, proc=self.moto)

    def fake_control(self, **knobs: Any) -> dict[str, Any]:
        return _http_json("POST", f"{self.fake_url}/_control", knobs)

    def fake_stats(self, prefix: str = "") -> dict[str, Any]:
        from urllib.parse import quote

        return _http_json("GET", f"{self.fake_url}/_stats?prefix={quote(prefix)}", None)

    def sqs(self) -> Any:
        from app.aws import boto3_client
        from app.settings import Settings

        return boto3_client(Settings(aws_endpoint_url=self.env["AWS_ENDPOINT_URL"]), "sqs")

    def queue_depth(self) -> dict[str, int]:
        attrs = self.sqs().get_queue_attributes(
            QueueUrl=self.env["QUEUE_URL"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {k: int(v) for k, v in attrs.items()}

    def settle_queue(self, *, max_depth: int = 20, timeout: float = 60.0) -> int:
        """Wait (bounded) until a consumer brought the queue below ``max_depth``.

        moto slows as a queue fills and allows one PurgeQueue a minute, so runs start
        only once the drainer or the worker has emptied it.
        """
        deadline = time.monotonic() + timeout
        depth = sum(self.queue_depth().values())
        while depth > max_depth and time.monotonic() < deadline:
            time.sleep(0.5)  # polling a queue attribute, bounded by ``timeout``
            depth = sum(self.queue_depth().values())
        return depth


def _http_json(method: str, url: str, body: dict[str, Any] | None) -> dict[str, Any]:
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        parsed: dict[str, Any] = json.loads(response.read())
        return parsed


def aws_resources(endpoint: str) -> dict[str, str]:
    """Create the queue, DLQ, bucket and JWT secret in the emulator; their env names."""
    from app.local_aws import create_local_resources
    from app.settings import Settings

    created = create_local_resources(Settings(aws_endpoint_url=endpoint), prefix="agatha-bench")
    return {
        "QUEUE_URL": created.queue_url,
        "DLQ_URL": created.dlq_url,
        "ARCHIVE_BUCKET": created.archive_bucket,
        "JWT_SIGNING_SECRET_ARN": created.jwt_signing_secret_arn,
    }


def sign_token(endpoint: str, secret_arn: str, tenant_id: str, *, ttl: int = 7200) -> str:
    """A JWT for ``tenant_id`` signed with the current key of the emulator's secret."""
    import jwt

    from app.aws import read_secret_json
    from app.settings import Settings

    keys = read_secret_json(Settings(aws_endpoint_url=endpoint), secret_arn)["keys"]
    key = next(k for k in keys if k.get("status", "current") == "current")
    claims = {
        "iss": "agatha",
        "aud": "agatha-api",
        "sub": "bench-user",
        "tenant": tenant_id,
        "exp": int(time.time()) + ttl,
    }
    return jwt.encode(
        claims, key["secret"], algorithm=key.get("alg", "HS256"), headers={"kid": key["kid"]}
    )


async def seed_tenant(database_url: str, *, rpm: int, tpm: int) -> tuple[str, str]:
    """A tenant with the given limits and an API key; returns (tenant id, plaintext key)."""
    from app.auth.api_keys import generate_key
    from app.db import accounts
    from app.db.engine import create_engine_for

    engine = create_engine_for(database_url)
    tenant_id = f"t_bench_{uuid.uuid4().hex[:10]}"
    try:
        await accounts.create_tenant(
            engine,
            tenant_id=tenant_id,
            name="bench",
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
        )
        new = generate_key()
        values = {"id": new.key_id, "tenant_id": tenant_id, "key_hash": new.key_hash}
        values |= {"prefix": new.prefix, "role": "user", "name": "bench"}
        await accounts.insert_api_key(engine, values | {"requests_per_minute": None})
    finally:
        await engine.dispose()
    return tenant_id, new.plaintext


def base_env(*, database_url: str, redis_url: str, endpoint: str, log_level: str) -> dict[str, str]:
    """Production settings (AGATHA_ENV=prod) pointing at the private services."""
    return {
        "AGATHA_ENV": "prod",
        "LOG_LEVEL": log_level,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }


@contextmanager
def running_stack(options: StackOptions, log_dir: Path) -> Iterator[Stack]:
    """Start everything ``options`` asks for; stop it all on exit."""
    from app.db.migrate import upgrade_to_head

    with ExitStack() as exits:
        # PostgreSQL first: the registry (gateways, workers) must stop before it does.
        pg = exits.enter_context(private_postgres())
        registry = exits.enter_context(procs(log_dir))
        database_url = pg.create_database("agatha")
        upgrade_to_head(database_url)
        redis = private_redis(registry)
        fake_port = free_port()
        fake = registry.spawn(
            "fake-upstream",
            [
                PYTHON,
                "-m",
                "bench.fakes",
                "--port",
                str(fake_port),
                "--latency",
                str(options.fake_latency),
            ],
        )
        stack = Stack(registry, options, pg, redis, database_url, free_port(), fake_port)
        stack.fake = fake
        stack.start_moto()
        wait_for_port(fake_port, timeout=START_TIMEOUT, proc=fake)
        endpoint = f"http://127.0.0.1:{stack.moto_port}"
        stack.env = base_env(
            database_url=database_url,
            redis_url=redis.url,
            endpoint=endpoint,
            log_level=options.log_level,
        ) | aws_resources(endpoint)
        stack.tenant_id, stack.api_key = asyncio.run(
            seed_tenant(database_url, rpm=options.tenant_rpm, tpm=options.tenant_tpm)
        )
        stack.token = sign_token(endpoint, stack.env["JWT_SIGNING_SECRET_ARN"], stack.tenant_id)
        for _ in range(options.gateways):
            stack.start_gateway()
        for _ in range(options.workers):
            stack.start_worker()
        yield stack
