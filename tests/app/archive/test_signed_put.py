"""The signed archive put stores what the S3 client would, and hands back every put it cannot.

The emulator checks signatures only when asked (``INITIAL_NO_AUTH_ACTION_COUNT``), so the
signature tests run their own moto server process with authentication on; the fallback
tests answer from a local fault server (503, 400, a hang) and let the moto server behind
the client take the put.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiobotocore.session import get_session
from aiohttp import web

from app.archive.errors import ArchiveWriteFailed
from app.archive.s3 import Archiver, ArchiveRecord
from app.archive.signed_put import SignedPut, open_signed_put
from tests.app.conftest import _wait_for_port
from tests.app.gateway.uvicorn_procs import free_ports

REGION = "us-east-1"


def record(*, tenant: str = "acme", request: str = "req_1") -> ArchiveRecord:
    return ArchiveRecord(
        request_id=request,
        tenant_id=tenant,
        model="m",
        provider="local",
        prompt="héllo ✓ 'quoted' <tag> ; DROP TABLE",
        parameters={"temperature": 0.1},
        response="hi",
        created_at=datetime(2026, 11, 28, 1, 2, tzinfo=UTC),
        completed_at=datetime(2026, 11, 28, 1, 3, tzinfo=UTC),
    )


def client_kwargs(endpoint: str, key: str = "testing", secret: str = "testing") -> dict[str, Any]:
    return {
        "region_name": REGION,
        "endpoint_url": endpoint,
        "aws_access_key_id": key,
        "aws_secret_access_key": secret,
    }


@pytest.fixture
async def exits() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def s3_client(exits: AsyncExitStack, kwargs: dict[str, Any]) -> Any:
    return await exits.enter_async_context(get_session().create_client("s3", **kwargs))


async def new_bucket(s3: Any) -> str:
    bucket = f"archive-{uuid.uuid4().hex[:8]}"
    await s3.create_bucket(Bucket=bucket)
    return bucket


@pytest.mark.parametrize(
    "tenant",
    ["acme", "a/b c", "tenant=é ✓", "100%~+&?#"],
    ids=["plain", "slash-space", "unicode", "reserved"],
)
async def test_signed_put_stores_the_object_the_client_would(
    aws_env: str, exits: AsyncExitStack, tenant: str
) -> None:
    kwargs = client_kwargs(aws_env)
    s3 = await s3_client(exits, kwargs)
    kms = await exits.enter_async_context(get_session().create_client("kms", **kwargs))
    key_id = (await kms.create_key())["KeyMetadata"]["KeyId"]
    bucket = await new_bucket(s3)
    signed = await open_signed_put(
        exits, session=get_session(), s3_client=s3, client_kwargs=kwargs, bucket=bucket
    )
    fast = Archiver(s3_client=s3, bucket=bucket, kms_key_id=key_id, signed_put=signed)
    slow = Archiver(s3_client=s3, bucket=bucket, kms_key_id=key_id)

    key = await fast.put(record(tenant=tenant, request="req_fast"))
    reference = await slow.put(record(tenant=tenant, request="req_client"))

    assert (signed.stored, signed.declined) == (1, 0)
    assert key == reference.replace("req_client", "req_fast")
    got, expected = (
        await s3.get_object(Bucket=bucket, Key=key),
        await s3.get_object(Bucket=bucket, Key=reference),
    )
    assert json.loads(await got["Body"].read()) == json.loads(await expected["Body"].read()) | {
        "request_id": "req_fast"
    }
    for field in ("ContentType", "ServerSideEncryption", "SSEKMSKeyId"):
        assert got[field] == expected[field], field
    assert got["ServerSideEncryption"] == "aws:kms"


# --- signatures, checked by an emulator with authentication on ---------------------------


@pytest.fixture(scope="module")
def authenticating_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server process that verifies every request's signature after the first four."""
    (port,) = free_ports(1)
    env = os.environ | {"INITIAL_NO_AUTH_ACTION_COUNT": "4"}
    code = "import sys; from moto.server import main; main(sys.argv[1:])"
    argv = [sys.executable, "-c", code, "-H", "127.0.0.1", "-p", str(port)]
    log = tmp_path_factory.mktemp("moto-auth") / "moto.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        if not _wait_for_port("127.0.0.1", port):
            pytest.fail(f"moto server did not start on {port}: {log.read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def iam_user(authenticating_moto: str) -> tuple[str, str, str]:
    """(access key, secret, bucket): the four unauthenticated actions create them."""
    import boto3

    kwargs = client_kwargs(authenticating_moto)
    iam, s3 = boto3.client("iam", **kwargs), boto3.client("s3", **kwargs)
    iam.create_user(UserName="archiver")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="archiver", PolicyName="s3", PolicyDocument=json.dumps(policy))
    access = iam.create_access_key(UserName="archiver")["AccessKey"]
    s3.create_bucket(Bucket="signed-archive")
    return access["AccessKeyId"], access["SecretAccessKey"], "signed-archive"


async def test_emulator_accepts_the_signature(
    authenticating_moto: str, iam_user: tuple[str, str, str], exits: AsyncExitStack
) -> None:
    access, secret, bucket = iam_user
    kwargs = client_kwargs(authenticating_moto, access, secret)
    s3 = await s3_client(exits, kwargs)
    signed = await open_signed_put(
        exits, session=get_session(), s3_client=s3, client_kwargs=kwargs, bucket=bucket
    )
    archiver = Archiver(s3_client=s3, bucket=bucket, signed_put=signed)
    key = await archiver.put(record(tenant="a/b é", request="req_signed"))
    assert (signed.stored, signed.declined, signed.enabled) == (1, 0, True)
    body = await (await s3.get_object(Bucket=bucket, Key=key))["Body"].read()
    assert json.loads(body)["request_id"] == "req_signed"


async def test_a_refused_signature_turns_the_path_off_and_the_client_reports_it(
    authenticating_moto: str, iam_user: tuple[str, str, str], exits: AsyncExitStack
) -> None:
    access, _, bucket = iam_user
    kwargs = client_kwargs(authenticating_moto, access, "not-the-secret")
    s3 = await s3_client(exits, kwargs)
    signed = await open_signed_put(
        exits, session=get_session(), s3_client=s3, client_kwargs=kwargs, bucket=bucket
    )
    archiver = Archiver(s3_client=s3, bucket=bucket, signed_put=signed)
    with pytest.raises(ArchiveWriteFailed, match="s3:PutObject"):
        await archiver.put(record(request="req_refused"))
    assert (signed.stored, signed.declined, signed.enabled) == (0, 1, False)
    with pytest.raises(ArchiveWriteFailed):
        await archiver.put(record(request="req_refused_again"))
    assert signed.declined == 1  # off: the second put went straight to the client


# --- fallbacks: a fault server answers the signed put, moto takes it through the client ----


class FaultServer:
    """Answers every PUT with ``status`` (or never, when ``hang``); counts them."""

    def __init__(self) -> None:
        self.status = 503
        self.hang = False
        self.puts = 0
        self.headers: dict[str, str] = {}

    async def handle(self, request: web.Request) -> web.Response:
        self.puts += 1
        self.headers = dict(request.headers)
        await request.read()
        if self.hang:
            await asyncio.sleep(5)
        return web.Response(status=self.status, text="<Error><Code>Injected</Code></Error>")


@pytest.fixture
async def fault_server() -> AsyncIterator[tuple[str, FaultServer]]:
    faults = FaultServer()
    app = web.Application()
    app.router.add_put("/{tail:.*}", faults.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", faults
    finally:
        await runner.cleanup()


async def faulty_archiver(
    exits: AsyncExitStack, moto: str, faults_url: str
) -> tuple[Archiver, SignedPut, Any, str]:
    """An archiver whose signed path resolves the fault server's URL; its client uses moto."""
    s3 = await s3_client(exits, client_kwargs(moto))
    bucket = await new_bucket(s3)
    signed_s3 = await s3_client(exits, client_kwargs(faults_url))
    http = await exits.enter_async_context(
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_read=0.3))
    )
    from aiobotocore.credentials import AioCredentials

    signed = SignedPut(
        s3_client=signed_s3,
        credentials=AioCredentials("testing", "testing"),
        http=http,
        bucket=bucket,
    )
    return Archiver(s3_client=s3, bucket=bucket, signed_put=signed), signed, s3, bucket


async def stored(s3: Any, bucket: str, key: str) -> str:
    return json.loads(await (await s3.get_object(Bucket=bucket, Key=key))["Body"].read())[
        "request_id"
    ]


async def test_a_transient_answer_goes_to_the_client_and_keeps_the_path(
    aws_env: str, exits: AsyncExitStack, fault_server: tuple[str, FaultServer]
) -> None:
    url, faults = fault_server
    archiver, signed, s3, bucket = await faulty_archiver(exits, aws_env, url)
    for n in range(2):
        key = await archiver.put(record(request=f"req_{n}"))
        assert await stored(s3, bucket, key) == f"req_{n}"
    assert (faults.puts, signed.declined, signed.enabled) == (2, 2, True)
    # What the emulator does not check: the scope names the client's region and service.
    authorization = faults.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert f"/{REGION}/s3/aws4_request" in authorization
    signed_headers = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"content-type", "host", "x-amz-checksum-crc32", "x-amz-date"} <= set(signed_headers)


async def test_a_client_error_answer_turns_the_path_off(
    aws_env: str, exits: AsyncExitStack, fault_server: tuple[str, FaultServer]
) -> None:
    url, faults = fault_server
    faults.status = 400
    archiver, signed, s3, bucket = await faulty_archiver(exits, aws_env, url)
    for n in range(2):
        key = await archiver.put(record(request=f"req_{n}"))
        assert await stored(s3, bucket, key) == f"req_{n}"
    assert (faults.puts, signed.declined, signed.enabled) == (1, 1, False)


async def test_a_hung_endpoint_times_out_and_the_client_stores_the_object(
    aws_env: str, exits: AsyncExitStack, fault_server: tuple[str, FaultServer]
) -> None:
    url, faults = fault_server
    faults.hang = True
    archiver, signed, s3, bucket = await faulty_archiver(exits, aws_env, url)
    key = await asyncio.wait_for(archiver.put(record(request="req_hung")), timeout=5)
    assert await stored(s3, bucket, key) == "req_hung"
    assert (faults.puts, signed.declined, signed.enabled) == (1, 1, True)
