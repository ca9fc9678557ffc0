"""The Lambda handler with a real SQS event payload shape, including partial failures."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from sqlalchemy import create_engine, insert, select

from app.archive.s3 import Archiver
from app.db.models import InferenceRequest, RequestStatus, Tenant
from app.providers.errors import ProviderServerError
from app.providers.registry import ProviderRegistry
from app.providers.retry import RetryPolicy
from app.usage.prices import PriceTable, default_prices
from app.worker.config import WorkerConfig
from app.worker.core import WorkerCore, WorkerDeps
from app.worker.lambda_handler import LambdaWorker
from app.worker.metrics import WorkerMetrics
from app.worker.store import JobStore
from tests.app.worker.worker_support import FakeProvider, body_for, no_sleep

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:agatha-prod-jobs"


def sqs_record(message_id: str, body: str, *, receive_count: int) -> dict[str, Any]:
    """One record exactly as Lambda's SQS event source delivers it."""
    return {
        "messageId": message_id,
        "receiptHandle": f"AQEB{uuid.uuid4().hex}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(int(time.time() * 1000) - 1500),
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def seed_rows(sync_url: str, tenant: str, models: list[str]) -> list[str]:
    ids = [f"req_{uuid.uuid4().hex[:16]}" for _ in models]
    now = datetime.now(UTC)
    engine = create_engine(sync_url)
    with engine.begin() as conn:
        conn.execute(insert(Tenant).values(id=tenant, name="Lambda tenant"))
        for request_id, model in zip(ids, models, strict=True):
            conn.execute(
                insert(InferenceRequest).values(
                    id=request_id,
                    tenant_id=tenant,
                    model=model,
                    prompt=f"p {request_id}",
                    parameters={},
                    status=RequestStatus.PENDING,
                    created_at=now,
                    updated_at=now,
                    attempts=0,
                )
            )
    engine.dispose()
    return ids


def core_factory(
    pg_url: str,
    endpoint: str,
    bucket: str,
    providers: dict[str, FakeProvider],
    built: list[WorkerCore],
) -> Any:
    async def build() -> WorkerCore:
        from aiobotocore.session import get_session
        from sqlalchemy.ext.asyncio import create_async_engine

        s3 = (
            await get_session()
            .create_client("s3", region_name="us-east-1", endpoint_url=endpoint)
            .__aenter__()
        )

        def factory(p: FakeProvider) -> Any:
            async def make() -> FakeProvider:
                return p

            return make

        registry = ProviderRegistry(
            catalogue={"ok-model": "ok", "down-model": "down"},
            factories={name: factory(p) for name, p in providers.items()},
        )
        deps = WorkerDeps(
            store=JobStore(create_async_engine(pg_url)),
            registry=registry,
            archiver=Archiver(s3_client=s3, bucket=bucket),
            prices=PriceTable(default_prices()),
            metrics=WorkerMetrics(),
            config=WorkerConfig(max_receive_count=3, retry=RetryPolicy(max_attempts=2)),
            owner="lambda-1",
            sleep=no_sleep,
        )
        built.append(WorkerCore(deps))
        return built[-1]

    return build


def test_lambda_reports_only_unfinished_records_as_batch_item_failures(
    migrated_pg_url: str, aws_env: str
) -> None:
    bucket = f"archive-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", region_name="us-east-1", endpoint_url=aws_env).create_bucket(Bucket=bucket)
    tenant = f"t_{uuid.uuid4().hex[:10]}"
    sync_url = migrated_pg_url.replace("+asyncpg", "+psycopg")
    ok_id, retry_id, last_id = seed_rows(sync_url, tenant, ["ok-model", "down-model", "down-model"])
    down = FakeProvider(name="down", always=ProviderServerError("503", provider="down", status=503))
    providers = {"ok": FakeProvider(name="ok"), "down": down}
    event = {
        "Records": [
            sqs_record("m-ok", body_for(ok_id, tenant), receive_count=1),
            sqs_record("m-retry", body_for(retry_id, tenant), receive_count=1),
            sqs_record("m-last", body_for(last_id, tenant), receive_count=3),
            sqs_record("m-bad", "not json", receive_count=1),
        ]
    }
    built: list[WorkerCore] = []
    worker = LambdaWorker(core_factory(migrated_pg_url, aws_env, bucket, providers, built))
    try:
        response = worker.handle(event, None)
    finally:
        for core in built:  # what the Lambda environment would keep open between invocations
            worker.run(core.store.aclose())
        worker.close()

    failures = sorted(item["itemIdentifier"] for item in response["batchItemFailures"])
    assert failures == ["m-last", "m-retry"]
    engine = create_engine(sync_url)
    with engine.connect() as conn:
        table = InferenceRequest.__table__
        rows = dict(
            conn.execute(
                select(table.c.id, table.c.status).where(table.c.tenant_id == tenant)
            ).all()
        )
    engine.dispose()
    assert rows == {
        ok_id: RequestStatus.COMPLETED,
        retry_id: RequestStatus.PENDING,
        last_id: RequestStatus.FAILED,
    }
    assert json.dumps(response)  # the response is plain JSON for the Lambda runtime
