"""Worker fixtures: a migrated PostgreSQL engine, SQS queue + DLQ and a bucket in moto,
a scriptable fake provider and a core wired to them."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.archive.s3 import Archiver
from app.db.models import InferenceRequest, RequestStatus, Tenant
from app.notify import Notifier, NullNotifier
from app.providers.registry import ProviderRegistry
from app.providers.retry import RetryPolicy
from app.usage.prices import PriceTable, default_prices
from app.worker.config import WorkerConfig
from app.worker.core import WorkerCore, WorkerDeps
from app.worker.metrics import WorkerMetrics
from app.worker.store import JobStore, utc_now
from tests.app.worker.worker_support import FAKE_MODEL, MAX_RECEIVES, FakeProvider, no_sleep


@pytest.fixture
async def engine(migrated_pg_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(migrated_pg_url)
    yield eng
    await eng.dispose()


@pytest.fixture
async def tenant(engine: AsyncEngine) -> str:
    tenant_id = f"t_{uuid.uuid4().hex[:10]}"
    async with engine.begin() as conn:
        await conn.execute(insert(Tenant).values(id=tenant_id, name="Test tenant"))
    return tenant_id


@pytest.fixture
def make_request(engine: AsyncEngine, tenant: str) -> Callable[..., Any]:
    async def make(*, status: str = RequestStatus.PENDING, model: str = FAKE_MODEL) -> str:
        request_id = f"req_{uuid.uuid4().hex[:16]}"
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(
                insert(InferenceRequest).values(
                    id=request_id,
                    tenant_id=tenant,
                    model=model,
                    prompt=f"prompt {request_id}",
                    parameters={"max_tokens": 16},
                    status=status,
                    created_at=now,
                    updated_at=now,
                    attempts=0,
                )
            )
        return request_id

    return make


@pytest.fixture
async def aws_clients(aws_env: str) -> AsyncIterator[dict[str, Any]]:
    from aiobotocore.session import get_session

    session = get_session()
    kwargs = {"region_name": "us-east-1", "endpoint_url": aws_env}
    async with (
        session.create_client("sqs", **kwargs) as sqs,
        session.create_client("s3", **kwargs) as s3,
    ):
        yield {"sqs": sqs, "s3": s3}


@pytest.fixture
async def queues(aws_clients: dict[str, Any]) -> dict[str, str]:
    sqs = aws_clients["sqs"]
    name = f"jobs-{uuid.uuid4().hex[:10]}"
    dlq_url = (await sqs.create_queue(QueueName=f"{name}-dlq"))["QueueUrl"]
    attrs = await sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    redrive = {
        "deadLetterTargetArn": attrs["Attributes"]["QueueArn"],
        "maxReceiveCount": MAX_RECEIVES,
    }
    queue_url = (
        await sqs.create_queue(
            QueueName=name,
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": "30"},
        )
    )["QueueUrl"]
    return {"queue_url": queue_url, "dlq_url": dlq_url}


@pytest.fixture
async def bucket(aws_clients: dict[str, Any]) -> str:
    name = f"archive-{uuid.uuid4().hex[:10]}"
    await aws_clients["s3"].create_bucket(Bucket=name)
    return name


@pytest.fixture
async def make_store(engine: AsyncEngine) -> AsyncIterator[Callable[..., JobStore]]:
    """JobStores on ``engine`` (or ``on``); their statement connections close after the test."""
    made: list[JobStore] = []

    def make(on: AsyncEngine | None = None, *, clock: Callable[[], datetime] = utc_now) -> JobStore:
        made.append(JobStore(on or engine, clock=clock))
        return made[-1]

    yield make
    for store in made:
        await store.aclose()


@pytest.fixture
def build_core(
    make_store: Callable[..., JobStore], aws_clients: dict[str, Any], bucket: str
) -> Callable[..., WorkerCore]:
    def build(
        provider: FakeProvider,
        *,
        owner: str = "worker-a",
        lease_seconds: float = 60.0,
        fallbacks: dict[str, tuple[str, ...]] | None = None,
        extra_providers: dict[str, FakeProvider] | None = None,
        metrics: WorkerMetrics | None = None,
        clock: Callable[[], datetime] | None = None,
        archive_bucket: str | None = None,
        notifier: Notifier | None = None,
        heartbeat_seconds: float = 30.0,
        repeat_interrupted_calls: bool = False,
        store_engine: AsyncEngine | None = None,
    ) -> WorkerCore:
        now = clock or (lambda: datetime.now(UTC))
        providers = {provider.name: provider, **(extra_providers or {})}
        catalogue = {FAKE_MODEL: provider.name}
        catalogue.update({f"{name}-model": name for name in (extra_providers or {})})

        def factory(p: FakeProvider) -> Any:
            async def make() -> FakeProvider:
                return p

            return make

        registry = ProviderRegistry(
            catalogue=catalogue, factories={n: factory(p) for n, p in providers.items()}
        )
        config = WorkerConfig(
            lease_seconds=lease_seconds,
            heartbeat_seconds=heartbeat_seconds,
            provider_timeout=5.0,
            max_receive_count=MAX_RECEIVES,
            visibility_timeout_seconds=30,
            retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
            fallbacks=fallbacks or {},
            repeat_interrupted_calls=repeat_interrupted_calls,
        )
        deps = WorkerDeps(
            store=make_store(store_engine, clock=now),
            registry=registry,
            archiver=Archiver(s3_client=aws_clients["s3"], bucket=archive_bucket or bucket),
            prices=PriceTable(default_prices()),
            metrics=metrics or WorkerMetrics(),
            config=config,
            owner=owner,
            sleep=no_sleep,
            clock=now,
            notifier=notifier or NullNotifier(),
        )
        return WorkerCore(deps)

    return build
