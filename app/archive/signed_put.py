"""The archive's PutObject without the S3 client's per-call work: botocore signs, aiohttp sends.

Through the aiobotocore client one small put costs the worker ~1.5 ms of CPU: event
hooks, endpoint-rule parameters rebuilt per call, header objects, response parsing. This
path costs ~0.7 ms (docs/benchmarks.md, round 7). What it keeps from botocore:

- the object URL, resolved once per bucket by the client's own endpoint rules (through
  ``generate_presigned_url``, which runs them without sending anything);
- the credentials (aiobotocore's, refreshed as they near expiry);
- the SigV4 signature (``S3SigV4Auth``, the signer the client uses for S3).

Any answer but 200, and any transport error, hands the put to the aiobotocore client,
which retries and classifies errors as before; nothing is lost. A 4xx or a redirect also
turns this path off for the process (the bucket or the request is not what it assumes):
one warning, then every put goes through the client.
"""

from __future__ import annotations

import base64
import zlib
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import structlog
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError
from yarl import URL

from app.aws import USER_AGENT

PROBE_KEY = "agatha-url-probe"
# Answers the client's retries are for: try the put again through it, keep this path.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class SignedPut:
    """PUTs objects into one bucket over ``http`` with the client's URL and credentials."""

    def __init__(
        self, *, s3_client: Any, credentials: Any, http: aiohttp.ClientSession, bucket: str
    ) -> None:
        self._s3 = s3_client
        self._credentials = credentials
        self._http = http
        self._bucket = bucket
        self._region: str = s3_client.meta.region_name
        self._base_url: str | None = None
        self.enabled = credentials is not None
        # Puts S3 accepted on this path, and puts handed back to the client.
        self.stored = 0
        self.declined = 0
        self._log = structlog.get_logger("app.archive")

    async def put(self, key: str, body: bytes, headers: dict[str, str]) -> bool:
        """Store ``body`` under ``key``; False when the caller must use the client instead."""
        if not self.enabled:
            return False
        stored = await self._put(key, body, headers)
        if stored:
            self.stored += 1
        else:
            self.declined += 1
        return stored

    async def _put(self, key: str, body: bytes, headers: dict[str, str]) -> bool:
        try:
            base = self._base_url or await self._resolve_base_url()
            frozen = await self._credentials.get_frozen_credentials()
        except (BotoCoreError, ClientError) as exc:  # the client will say what is wrong
            self._log.warning("archive.signed_put_failed", key=key, error=str(exc))
            return False
        if base is None:
            return False
        url = base + quote(key, safe="/~")  # the client's own quoting of the key
        request = AWSRequest(method="PUT", url=url, data=body, headers=self._headers(body, headers))
        S3SigV4Auth(frozen, "s3", self._region).add_auth(request)
        try:
            async with self._http.put(
                URL(url, encoded=True),  # sent as signed: no re-quoting by yarl
                data=body,
                headers=dict(request.headers.items()),
                allow_redirects=False,
            ) as response:
                if response.status == 200:
                    return True
                detail = (await response.text())[:300]
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._log.warning("archive.signed_put_failed", key=key, error=repr(exc))
            return False
        if response.status not in TRANSIENT_STATUSES:
            self._disable(f"S3 answered {response.status}: {detail}")
        else:
            self._log.warning("archive.signed_put_failed", key=key, status=response.status)
        return False

    @staticmethod
    def _headers(body: bytes, headers: dict[str, str]) -> dict[str, str]:
        # CRC32 in a header is what the client sends by default (flexible checksums):
        # S3 checks it and refuses a body damaged on the way.
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        return {**headers, "User-Agent": USER_AGENT, "x-amz-checksum-crc32": crc}

    async def _resolve_base_url(self) -> str | None:
        """``scheme://host/[bucket/]``: the URL the client's endpoint rules give the bucket."""
        presigned = await self._s3.generate_presigned_url(
            "put_object", Params={"Bucket": self._bucket, "Key": PROBE_KEY}, ExpiresIn=60
        )
        parts = urlsplit(presigned)
        if not parts.path.endswith("/" + PROBE_KEY):
            self._disable(f"unexpected object URL {parts.scheme}://{parts.netloc}{parts.path}")
            return None
        path = parts.path[: -len(PROBE_KEY)]
        self._base_url = f"{parts.scheme}://{parts.netloc}{path}"
        return self._base_url

    def _disable(self, reason: str) -> None:
        self.enabled = False
        self._log.warning(
            "archive.signed_put_disabled",
            bucket=self._bucket,
            reason=reason,
            effect="every archive put now goes through the S3 client (slower, same result)",
        )


async def open_signed_put(
    stack: AsyncExitStack,
    *,
    session: Any,
    s3_client: Any,
    client_kwargs: dict[str, Any],
    bucket: str,
) -> SignedPut:
    """A ``SignedPut`` for ``bucket`` with the credentials ``s3_client`` was built with.

    Its HTTP connections close with ``stack``. Explicit keys in ``client_kwargs`` (the
    emulator's) win, as they do for the client; otherwise the session's provider chain
    (environment, ECS task role, Lambda role), refreshed by aiobotocore.
    """
    from aiobotocore.credentials import AioCredentials

    if "aws_access_key_id" in client_kwargs:
        credentials: Any = AioCredentials(
            client_kwargs["aws_access_key_id"],
            client_kwargs["aws_secret_access_key"],
            client_kwargs.get("aws_session_token"),
        )
    else:
        credentials = await session.get_credentials()
    config = client_kwargs.get("config")
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=getattr(config, "max_pool_connections", 32) or 32),
        timeout=aiohttp.ClientTimeout(
            sock_connect=getattr(config, "connect_timeout", 2),
            sock_read=getattr(config, "read_timeout", 10),
        ),
    )
    stack.push_async_callback(http.close)
    return SignedPut(s3_client=s3_client, credentials=credentials, http=http, bucket=bucket)
