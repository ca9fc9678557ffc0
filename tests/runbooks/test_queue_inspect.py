from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from app.db.models import Base, InferenceRequest, Tenant
from runbooks.aws import AwsSession
from runbooks.queue_inspect import do_queue_inspect, parse_job
from tests.runbooks.opskit import Platform, client, make_ctx

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def database_url() -> Iterator[str]:
    """A throw-away database on the local PostgreSQL with the app's tables."""
    name = f"runbooks_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        session.add(Tenant(id="t1", name="tenant"))
        session.flush()
        session.add(
            InferenceRequest(
                id="req-1",
                tenant_id="t1",
                model="gpt",
                status="failed",
                created_at=now,
                updated_at=now,
                error_code="provider_timeout",
                error_message="upstream timed out",
            )
        )
        session.commit()
    engine.dispose()
    yield url
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_sample_shows_failure_reason_from_database(
    aws: AwsSession, platform: Platform, tmp_path: Path, database_url: str
) -> None:
    for request_id in ("req-1", "req-unknown"):
        client("sqs").send_message(
            QueueUrl=platform["dlq-url"],
            MessageBody=json.dumps({"v": 1, "id": request_id, "tenant": "t1"}),
        )
    report = do_queue_inspect(make_ctx(aws, tmp_path), sample=5, database_url=database_url)
    rows = {r["request_id"]: r for r in report["dlq_sample"]}
    assert rows["req-1"]["error_code"] == "provider_timeout"
    assert rows["req-1"]["error_message"] == "upstream timed out"
    assert rows["req-unknown"]["status"] == "(not in database)"
    assert report["dlq"]["visible"] == 2  # peeking released the messages
    assert report["queue"]["visible"] == 0


def test_unparseable_body_is_reported_not_fatal() -> None:
    assert parse_job("not json") == {}
    assert parse_job('{"v": 1, "id": "r", "tenant": "t"}') == {"request_id": "r", "tenant": "t"}
