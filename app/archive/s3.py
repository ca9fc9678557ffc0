"""Write one archive object per request: ``archive/tenant=<t>/date=YYYY-MM-DD/<id>.json``.

The Hive-style ``tenant=``/``date=`` segments let Athena/Glue partition the archive
without a crawler. Objects are SSE-KMS encrypted with the platform key when one is set.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from app.archive.errors import ArchiveWriteFailed

if TYPE_CHECKING:
    from app.archive.signed_put import SignedPut

ARCHIVE_PREFIX = "archive"
ARCHIVE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ArchiveRecord:
    """Prompt, parameters, response and metadata of one finished request."""

    request_id: str
    tenant_id: str
    model: str
    provider: str
    prompt: str
    parameters: dict[str, Any]
    response: str
    created_at: datetime
    completed_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """The object body (UTF-8 JSON, timestamps in ISO 8601 UTC).

        Fields are listed rather than ``dataclasses.asdict``-ed: asdict deep-copies the
        parameters and metadata first, a tenth of a millisecond per job for nothing.
        """
        body = {
            "v": ARCHIVE_FORMAT_VERSION,
            "request_id": self.request_id,
            "tenant_id": self.tenant_id,
            "model": self.model,
            "provider": self.provider,
            "prompt": self.prompt,
            "parameters": self.parameters,
            "response": self.response,
            "created_at": _utc(self.created_at).isoformat(),
            "completed_at": _utc(self.completed_at).isoformat(),
            "metadata": self.metadata,
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything the worker writes is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def archive_key(*, tenant_id: str, request_id: str, created_at: datetime) -> str:
    """The object key; the date is the request's creation day in UTC (stable on retries)."""
    day = _utc(created_at).strftime("%Y-%m-%d")
    tenant, request = quote(tenant_id, safe=""), quote(request_id, safe="")
    return f"{ARCHIVE_PREFIX}/tenant={tenant}/date={day}/{request}.json"


class Archiver:
    """Puts archive records into the archive bucket.

    Through ``signed_put`` when given (app/archive/signed_put.py: the same request at half
    the CPU), else, or whenever that path declines, through the aiobotocore S3 client.
    """

    def __init__(
        self,
        *,
        s3_client: Any,
        bucket: str,
        kms_key_id: str | None = None,
        signed_put: SignedPut | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._kms_key_id = kms_key_id
        self._signed_put = signed_put
        self._clock = clock
        # When the last put failed (None once one succeeds): see ``failing``.
        self._failed_at: float | None = None

    @property
    def signed_put(self) -> SignedPut | None:
        return self._signed_put

    def failing(self, within: float) -> bool:
        """Whether the last put failed, less than ``within`` seconds ago.

        The worker's sweep holds back its re-sends of unarchived rows meanwhile: each
        would only fail again, and land in the DLQ after its receives.
        """
        return self._failed_at is not None and self._clock() - self._failed_at < within

    async def put(self, record: ArchiveRecord) -> str:
        """Write ``record`` (idempotent: same request, same key) and return its key."""
        key = archive_key(
            tenant_id=record.tenant_id, request_id=record.request_id, created_at=record.created_at
        )
        body = record.to_json()
        if self._signed_put is not None:
            headers = {"Content-Type": "application/json"}
            if self._kms_key_id:
                headers["x-amz-server-side-encryption"] = "aws:kms"
                headers["x-amz-server-side-encryption-aws-kms-key-id"] = self._kms_key_id
            if await self._signed_put.put(key, body, headers):
                self._failed_at = None
                return key
        kwargs: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": key,
            "Body": body,
            "ContentType": "application/json",
        }
        if self._kms_key_id:
            kwargs["ServerSideEncryption"] = "aws:kms"
            kwargs["SSEKMSKeyId"] = self._kms_key_id
        try:
            await self._s3.put_object(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            self._failed_at = self._clock()
            raise ArchiveWriteFailed(
                f"cannot write s3://{self._bucket}/{key}: {exc}; check the bucket name "
                "(ARCHIVE_BUCKET) and the worker role's s3:PutObject and kms:GenerateDataKey"
            ) from exc
        self._failed_at = None
        return key
