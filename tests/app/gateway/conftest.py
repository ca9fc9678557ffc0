"""Gateway test harness: a running app (lifespan entered) behind an httpx client.

``backend`` runs each test twice: on the embedded defaults (SQLite + in-memory limiter)
and on PostgreSQL + Redis; SQS and Secrets Manager are the session's moto server.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import jwt
import pytest

from app.auth.api_keys import generate_key
from app.db import accounts
from app.gateway import create_app
from app.gateway.state import Gateway
from app.settings import Settings

ISSUER = "https://auth.test.agatha"
AUDIENCE = "agatha-api-test"


@dataclass
class JwtKeys:
    """The signing secret stored in moto, and what tests sign with."""

    secret_arn: str
    keys: list[dict[str, Any]]

    def sign(self, *, kid: str | None = None, **claims: Any) -> str:
        key = next(k for k in self.keys if kid is None or k["kid"] == kid)
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-1",
            "exp": int(time.time()) + 300,
        } | claims
        return jwt.encode(payload, key["secret"], algorithm="HS256", headers={"kid": key["kid"]})

    def put(self, keys: list[dict[str, Any]]) -> None:
        """Rotate: store a new key set as AWSCURRENT."""
        self.keys = keys
        boto3.client("secretsmanager").put_secret_value(
            SecretId=self.secret_arn, SecretString=json.dumps({"keys": keys})
        )


@dataclass
class Harness:
    """One running gateway plus helpers to seed tenants and keys."""

    client: httpx.AsyncClient
    gateway: Gateway
    jwt_keys: JwtKeys
    queue_url: str
    tenants: list[str] = field(default_factory=list)

    async def tenant(self, *, rpm: int = 600, tpm: int = 1_000_000) -> str:
        tenant_id = f"t_{uuid.uuid4().hex[:12]}"
        await accounts.create_tenant(
            self.gateway.engine,
            tenant_id=tenant_id,
            name="Test tenant",
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
        )
        return tenant_id

    async def api_key(self, tenant_id: str, *, role: str = "user", rpm: int | None = None) -> str:
        new = generate_key()
        await accounts.insert_api_key(
            self.gateway.engine,
            {
                "id": new.key_id,
                "tenant_id": tenant_id,
                "key_hash": new.key_hash,
                "prefix": new.prefix,
                "role": role,
                "name": "test",
                "requests_per_minute": rpm,
            },
        )
        return new.plaintext

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def user_token(self, tenant_id: str, **claims: Any) -> dict[str, str]:
        return self.bearer(self.jwt_keys.sign(tenant=tenant_id, **claims))

    def queued_messages(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        out: list[dict[str, Any]] = []
        for _ in range(20):
            batch = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                break
            out += [json.loads(m["Body"]) for m in batch]
        return out


@pytest.fixture
def jwt_keys(aws_env: str) -> JwtKeys:
    keys = [{"kid": "k1", "secret": "s" * 16 + uuid.uuid4().hex, "status": "current"}]
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"jwt-{uuid.uuid4().hex}", SecretString=json.dumps({"keys": keys})
    )["ARN"]
    return JwtKeys(secret_arn=arn, keys=keys)


@pytest.fixture
def queue_url(aws_env: str) -> str:
    return boto3.client("sqs").create_queue(QueueName=f"jobs-{uuid.uuid4().hex[:16]}")["QueueUrl"]


@pytest.fixture(params=["embedded", "services"])
def backend_settings(request: pytest.FixtureRequest, sqlite_url: str) -> dict[str, Any]:
    """Database/limiter settings for the embedded defaults and for PostgreSQL + Redis."""
    if request.param == "embedded":
        return {"database_url": sqlite_url}
    return {
        "database_url": request.getfixturevalue("migrated_pg_url"),
        "redis_url": request.getfixturevalue("redis_url"),
    }


@pytest.fixture
def make_settings(
    aws_env: str, jwt_keys: JwtKeys, queue_url: str, backend_settings: dict[str, Any]
) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "agatha_env": "test",
            "aws_endpoint_url": aws_env,
            "queue_url": queue_url,
            "jwt_signing_secret_arn": jwt_keys.secret_arn,
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
            "log_level": "WARNING",
            **backend_settings,
        }
        return Settings(**(values | overrides))

    return build


@asynccontextmanager
async def running(settings: Settings, jwt_keys: JwtKeys) -> AsyncIterator[Harness]:
    """Enter the app's lifespan and yield a harness around it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Harness(client, app.state.gateway, jwt_keys, settings.queue_url or "")


@pytest.fixture
async def harness(
    make_settings: Callable[..., Settings], jwt_keys: JwtKeys
) -> AsyncIterator[Harness]:
    async with running(make_settings(), jwt_keys) as h:
        yield h


@pytest.fixture
def start_gateway(make_settings: Callable[..., Settings], jwt_keys: JwtKeys) -> Callable[..., Any]:
    """``async with start_gateway(**overrides) as h``: another gateway instance."""

    def start(**overrides: Any) -> Any:
        return running(make_settings(**overrides), jwt_keys)

    return start
