"""The archive writes one JSON object per request under tenant/date keys, SSE-KMS when asked."""

from __future__ import annotations

import json
import uuid
from dataclasses import fields
from datetime import UTC, datetime

import pytest
from aiobotocore.session import get_session

from app.archive.errors import ArchiveWriteFailed
from app.archive.s3 import Archiver, ArchiveRecord, archive_key


def record() -> ArchiveRecord:
    return ArchiveRecord(
        request_id="req_1",
        tenant_id="acme",
        model="m",
        provider="local",
        prompt="hi",
        parameters={"temperature": 0.1},
        response="hello",
        created_at=datetime(2025, 3, 4, 23, 59, tzinfo=UTC),
        completed_at=datetime(2025, 3, 5, 0, 1, tzinfo=UTC),
        metadata={"tokens_in": 1},
    )


def test_key_layout_uses_tenant_and_creation_day() -> None:
    created = datetime(2025, 3, 4, 23, 59)  # naive values from SQLite are UTC
    key = archive_key(tenant_id="acme", request_id="req_1", created_at=created)
    assert key == "archive/tenant=acme/date=2025-03-04/req_1.json"
    odd = archive_key(tenant_id="a/b", request_id="r", created_at=created)
    assert odd == "archive/tenant=a%2Fb/date=2025-03-04/r.json"


def test_body_holds_every_record_field_and_the_format_version() -> None:
    body = json.loads(record().to_json())
    assert set(body) == {f.name for f in fields(ArchiveRecord)} | {"v"}
    assert body["v"] == 1
    assert body["parameters"] == {"temperature": 0.1}
    assert body["metadata"] == {"tokens_in": 1}
    assert body["created_at"] == "2025-03-04T23:59:00+00:00"


async def test_put_writes_json_with_sse_kms(aws_env: str) -> None:
    session = get_session()
    kwargs = {"region_name": "us-east-1", "endpoint_url": aws_env}
    async with (
        session.create_client("s3", **kwargs) as s3,
        session.create_client("kms", **kwargs) as kms,
    ):
        key_id = (await kms.create_key())["KeyMetadata"]["KeyId"]
        bucket = f"archive-{uuid.uuid4().hex[:8]}"
        await s3.create_bucket(Bucket=bucket)
        key = await Archiver(s3_client=s3, bucket=bucket, kms_key_id=key_id).put(record())
        obj = await s3.get_object(Bucket=bucket, Key=key)
        body = json.loads(await obj["Body"].read())
        assert obj["ServerSideEncryption"] == "aws:kms"
        assert (body["prompt"], body["response"], body["v"]) == ("hi", "hello", 1)
        assert body["created_at"] == "2025-03-04T23:59:00+00:00"
        with pytest.raises(ArchiveWriteFailed, match="ARCHIVE_BUCKET"):
            await Archiver(s3_client=s3, bucket="missing-bucket-x").put(record())


async def test_failing_tells_the_sweep_whether_the_last_put_failed_recently(aws_env: str) -> None:
    """A failed put marks the archiver failing for ``within`` seconds; a success clears it."""
    session = get_session()
    now = [1000.0]
    async with session.create_client("s3", region_name="us-east-1", endpoint_url=aws_env) as s3:
        bucket = f"archive-{uuid.uuid4().hex[:8]}"
        archiver = Archiver(s3_client=s3, bucket=bucket, clock=lambda: now[0])
        assert not archiver.failing(within=900)
        with pytest.raises(ArchiveWriteFailed):
            await archiver.put(record())  # the bucket does not exist yet
        assert archiver.failing(within=900)
        now[0] += 899
        assert archiver.failing(within=900)
        now[0] += 2
        assert not archiver.failing(within=900)  # no put since: let the sweep try again
        with pytest.raises(ArchiveWriteFailed):
            await archiver.put(record())
        await s3.create_bucket(Bucket=bucket)
        await archiver.put(record())
        assert not archiver.failing(within=900)
