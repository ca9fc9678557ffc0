"""The archive's PutObject without the S3 client's per-call work: botocore signs, aiohttp sends.

Through the aiobotocore client one small put costs the worker ~1.5 ms of CPU: event
hooks, endpoint-rule parameters rebuilt per call, header objects, response parsing. This
path costs ~0.7 ms (docs/benchmarks.md, round 7). What it keeps from botocore:

- the object URL and the signing scope, resolved once per bucket by the client's own
  endpoint rules (the same URL ``put_object`` sends to: region, FIPS, dual-stack,
  accelerate and path-style settings included);
- the credentials (aiobotocore's, refreshed as they near expiry);
- the SigV4 signature (``S3SigV4Auth``, the signer the client uses for S3).

Any answer but 200, and any transport error, hands the put to the aiobotocore client,
which retries and classifies errors as before: nothing is lost. The path then rests
(``SUSPEND_AFTER_REFUSAL`` after an answer that retrying will not change, such as a 403;
``SUSPEND_AFTER_FAILURES`` after that many transient failures in a row) so a bad
endpoint never costs every put twice. Endpoints this path does not handle (S3 Express
sessions, SigV4a, extra headers, an HTTP proxy) keep every put on the client.
"""

from __future__ import annotations

import base64
import os
import re
import ssl
import time
import zlib
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from urllib.request import getproxies

import aiohttp
import structlog
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError
from yarl import URL

from app.aws import USER_AGENT

PROBE_KEY = "agatha-url-probe"
# Answers the client's retries are for (botocore's standard retry mode): hand the put to
# the client; the path stays on unless they come in a row.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "SlowDown", "InternalError", "ExpiredToken", "RequestTimeTooSkewed"}
)
SUSPEND_AFTER_REFUSAL = 600.0
FAILURES_IN_A_ROW = 3
SUSPEND_AFTER_FAILURES = 60.0
_ERROR_CODE = re.compile(r"<Code>([^<]{1,64})</Code>")


@dataclass(frozen=True)
class PutTarget:
    """Where and how the client would send a PutObject for the bucket."""

    base_url: str  # scheme://host[/bucket]/ ; the quoted key follows
    region: str  # the signing scope's region and service
    service: str


class SignedPut:
    """PUTs objects into one bucket over ``http`` with the client's URL and credentials."""

    def __init__(
        self,
        *,
        s3_client: Any,
        credentials: Any,
        http: aiohttp.ClientSession,
        bucket: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._s3 = s3_client
        self._credentials = credentials
        self._http = http
        self._bucket = bucket
        self._clock = clock
        self._target: PutTarget | None = None
        self._log = structlog.get_logger("app.archive")
        # False for good: no credentials, or an endpoint this path does not handle.
        self.enabled = credentials is not None
        self._resting_until = 0.0
        self._failures_in_a_row = 0
        # Puts S3 accepted on this path; puts handed back to the client after trying;
        # puts sent straight to the client while the path rested.
        self.stored = 0
        self.declined = 0
        self.skipped = 0

    @property
    def resting(self) -> bool:
        return self._clock() < self._resting_until

    async def put(self, key: str, body: bytes, headers: dict[str, str]) -> bool:
        """Store ``body`` under ``key``; False when the caller must use the client instead."""
        if not self.enabled:
            return False
        if self.resting:
            self.skipped += 1
            return False
        stored = await self._put(key, body, headers)
        if stored:
            self.stored += 1
            self._failures_in_a_row = 0
        else:
            self.declined += 1
        return stored

    async def resolve_target(self) -> PutTarget | None:
        """The bucket's URL and signing scope from the client's endpoint rules (once)."""
        if self._target is not None:
            return self._target
        resolve = getattr(self._s3, "_resolve_endpoint_ruleset", None)
        if resolve is None:  # a botocore without it: never guess the URL
            self._disable("this aiobotocore cannot resolve endpoints outside a call")
            return None
        operation = self._s3.meta.service_model.operation_model("PutObject")
        context: dict[str, Any] = {}
        url, extra_headers, _ = await resolve(
            operation, {"Bucket": self._bucket, "Key": PROBE_KEY}, context
        )
        signing = context.get("signing", {})
        auth = context.get("auth_type", "v4")
        if auth not in ("v4", "s3v4") or extra_headers or not url:
            self._disable(f"the endpoint wants auth {auth!r} and headers {sorted(extra_headers)}")
            return None
        self._target = PutTarget(
            base_url=url.rstrip("/") + "/",
            region=signing.get("region") or self._s3.meta.region_name,
            service=signing.get("signing_name") or "s3",
        )
        return self._target

    async def _put(self, key: str, body: bytes, headers: dict[str, str]) -> bool:
        try:
            target = await self.resolve_target()
            if target is None:
                return False
            frozen = await self._credentials.get_frozen_credentials()
        except (BotoCoreError, ClientError) as exc:  # the client will say what is wrong
            self._failed(key, f"no URL or credentials: {exc}")
            return False
        request = signed_request(target, frozen, key, body, headers)
        try:
            async with self._http.put(
                URL(str(request.url), encoded=True),  # sent as signed: no re-quoting by yarl
                data=body,
                headers=dict(request.headers.items()),
                allow_redirects=False,
            ) as response:
                if response.status == 200:
                    return True
                status, detail = response.status, (await response.read())[:1000]
        except Exception as exc:  # noqa: BLE001 - any failure here is the client's turn
            self._failed(key, repr(exc))
            return False
        text = detail.decode("utf-8", errors="replace")
        code = match.group(1) if (match := _ERROR_CODE.search(text)) else ""
        if status in TRANSIENT_STATUSES or code in TRANSIENT_CODES:
            self._failed(key, f"S3 answered {status} {code}".strip())
        else:
            self._rest(SUSPEND_AFTER_REFUSAL, f"S3 answered {status} {code}: {text[:300]}")
        return False

    def _failed(self, key: str, error: str) -> None:
        self._failures_in_a_row += 1
        self._log.warning("archive.signed_put_failed", key=key, error=error)
        if self._failures_in_a_row >= FAILURES_IN_A_ROW:
            self._rest(SUSPEND_AFTER_FAILURES, f"{self._failures_in_a_row} failures in a row")

    def _rest(self, seconds: float, reason: str) -> None:
        self._failures_in_a_row = 0
        self._resting_until = self._clock() + seconds
        self._log.warning(
            "archive.signed_put_resting",
            bucket=self._bucket,
            seconds=seconds,
            reason=reason,
            effect="archive puts go through the S3 client meanwhile (slower, same result)",
        )

    def _disable(self, reason: str) -> None:
        self.enabled = False
        self._log.warning(
            "archive.signed_put_disabled",
            bucket=self._bucket,
            reason=reason,
            effect="every archive put goes through the S3 client (slower, same result)",
        )


def signed_request(
    target: PutTarget, credentials: Any, key: str, body: bytes, headers: dict[str, str]
) -> AWSRequest:
    """The PUT of ``body`` to ``key``, signed with frozen ``credentials`` for ``target``."""
    url = target.base_url + quote(key, safe="/~")  # the client's own quoting of the key
    request = AWSRequest(method="PUT", url=url, data=body, headers=signed_headers(body, headers))
    S3SigV4Auth(credentials, target.service, target.region).add_auth(request)
    return request


def signed_headers(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus the User-Agent and the body's CRC32 (S3 refuses a damaged body)."""
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    return {**headers, "User-Agent": USER_AGENT, "x-amz-checksum-crc32": crc}


def ssl_context(session: Any) -> ssl.SSLContext:
    """Verification as the client does it: the configured CA bundle, else botocore's."""
    from botocore.httpsession import get_cert_path

    verify = session.get_config_variable("ca_bundle") or os.environ.get("REQUESTS_CA_BUNDLE")
    return ssl.create_default_context(cafile=verify or get_cert_path(True))


async def open_signed_put(
    stack: AsyncExitStack,
    *,
    session: Any,
    s3_client: Any,
    client_kwargs: dict[str, Any],
    bucket: str,
    clock: Callable[[], float] = time.monotonic,
) -> SignedPut | None:
    """A ``SignedPut`` for ``bucket`` with the credentials ``s3_client`` was built with.

    None when an HTTP proxy is configured (the client honours it; this path would not).
    Its HTTP connections close with ``stack``. Explicit keys in ``client_kwargs`` (the
    emulator's) win, as they do for the client; otherwise the session's provider chain
    (environment, ECS task role, Lambda role), refreshed by aiobotocore.
    """
    from aiobotocore.credentials import AioCredentials

    log = structlog.get_logger("app.archive")
    if getproxies():
        log.info("archive.signed_put_off", reason="an HTTP proxy is configured")
        return None
    if "aws_access_key_id" in client_kwargs:
        credentials: Any = AioCredentials(
            client_kwargs["aws_access_key_id"],
            client_kwargs["aws_secret_access_key"],
            client_kwargs.get("aws_session_token"),
        )
    else:
        credentials = await session.get_credentials()
    config = client_kwargs.get("config")
    connect = float(getattr(config, "connect_timeout", None) or 2)
    read = float(getattr(config, "read_timeout", None) or 10)
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=getattr(config, "max_pool_connections", None) or 32,
            ssl=ssl_context(session),
        ),
        # ``connect`` also bounds the wait for a pooled connection and the DNS lookup.
        timeout=aiohttp.ClientTimeout(
            total=connect + read, connect=connect, sock_connect=connect, sock_read=read
        ),
    )
    stack.push_async_callback(http.close)
    return SignedPut(
        s3_client=s3_client, credentials=credentials, http=http, bucket=bucket, clock=clock
    )
