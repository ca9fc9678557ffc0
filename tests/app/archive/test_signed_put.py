"""The signed archive put stores what the S3 client would, and hands back every put it cannot.

The emulator checks signatures only when asked (``INITIAL_NO_AUTH_ACTION_COUNT``), so the
signature tests run their own moto server process with authentication on; the fallback
tests answer from a local fault server (503, 400, a hang) and let the moto server behind
the client take the put.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import pytest
from aiobotocore.session import get_session
from aiohttp import web
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from botocore.httpchecksum import Crc32Checksum

from app.archive.errors import ArchiveWriteFailed
from app.archive.s3 import Archiver, ArchiveRecord
from app.archive.signed_put import (
    FAILURES_IN_A_ROW,
    SUSPEND_AFTER_FAILURES,
    SUSPEND_AFTER_REFUSAL,
    SignedPut,
    open_signed_put,
    signed_headers,
    signed_request,
)
from tests.app.conftest import _wait_for_port
from tests.app.gateway.uvicorn_procs import free_ports

REGION = "us-east-1"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


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
    assert signed is not None
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
        if not _wait_for_port("127.0.0.1", port, process=process):
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
    iam.put_user_policy(UserName="archiver", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
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
    assert signed is not None
    archiver = Archiver(s3_client=s3, bucket=bucket, signed_put=signed)
    key = await archiver.put(record(tenant="a/b é", request="req_signed"))
    assert (signed.stored, signed.declined, signed.enabled) == (1, 0, True)
    body = await (await s3.get_object(Bucket=bucket, Key=key))["Body"].read()
    assert json.loads(body)["request_id"] == "req_signed"


async def test_temporary_credentials_sign_with_their_session_token(
    authenticating_moto: str, iam_user: tuple[str, str, str], exits: AsyncExitStack
) -> None:
    """Role credentials (ECS task, Lambda) carry a token the signature must cover."""
    access, secret, bucket = iam_user
    user = client_kwargs(authenticating_moto, access, secret)
    iam = await exits.enter_async_context(get_session().create_client("iam", **user))
    sts = await exits.enter_async_context(get_session().create_client("sts", **user))
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    name = f"archiver-{uuid.uuid4().hex[:6]}"
    role = await iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    await iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=json.dumps(ALLOW_ALL))
    assumed = await sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="worker")
    creds = assumed["Credentials"]
    kwargs = client_kwargs(authenticating_moto, creds["AccessKeyId"], creds["SecretAccessKey"])
    kwargs["aws_session_token"] = creds["SessionToken"]
    s3 = await s3_client(exits, kwargs)
    signed = await open_signed_put(
        exits, session=get_session(), s3_client=s3, client_kwargs=kwargs, bucket=bucket
    )
    assert signed is not None
    key = await Archiver(s3_client=s3, bucket=bucket, signed_put=signed).put(
        record(request="req_role")
    )
    assert (signed.stored, signed.declined) == (1, 0)
    assert await stored(s3, bucket, key) == "req_role"


async def test_a_refused_signature_rests_the_path_and_the_client_reports_it(
    authenticating_moto: str, iam_user: tuple[str, str, str], exits: AsyncExitStack
) -> None:
    access, _, bucket = iam_user
    kwargs = client_kwargs(authenticating_moto, access, "not-the-secret")
    s3 = await s3_client(exits, kwargs)
    signed = await open_signed_put(
        exits, session=get_session(), s3_client=s3, client_kwargs=kwargs, bucket=bucket
    )
    assert signed is not None
    archiver = Archiver(s3_client=s3, bucket=bucket, signed_put=signed)
    with pytest.raises(ArchiveWriteFailed, match="SignatureDoesNotMatch"):
        await archiver.put(record(request="req_refused"))
    assert (signed.stored, signed.declined, signed.resting) == (0, 1, True)
    with pytest.raises(ArchiveWriteFailed, match="SignatureDoesNotMatch"):
        await archiver.put(record(request="req_refused_again"))
    assert (signed.declined, signed.skipped) == (1, 1)  # resting: straight to the client


# --- what the emulator does not check: URL, scope, checksum and payload hash -------------


class Captured(Exception):
    """Raised from ``before-send`` to keep the client's request from leaving."""


@pytest.mark.parametrize(
    ("region", "config", "bucket", "endpoint"),
    [
        ("us-east-1", None, "my-archive", None),
        ("eu-west-1", None, "my-archive", None),
        ("us-east-1", Config(s3={"us_east_1_regional_endpoint": "regional"}), "my-archive", None),
        ("us-west-2", Config(use_fips_endpoint=True), "my-archive", None),
        ("eu-west-1", Config(use_dualstack_endpoint=True), "my-archive", None),
        ("eu-west-1", Config(s3={"addressing_style": "path"}), "my-archive", None),
        ("eu-west-1", None, "my.dotted.bucket", None),
        ("us-east-1", None, "my-archive", "http://127.0.0.1:9000"),
    ],
    ids=["us-east-1", "eu-west-1", "regional", "fips", "dualstack", "path", "dotted", "custom"],
)
async def test_the_signed_request_goes_where_the_clients_would_with_its_scope(
    exits: AsyncExitStack, region: str, config: Config | None, bucket: str, endpoint: str | None
) -> None:
    kwargs: dict[str, Any] = {
        "region_name": region,
        "aws_access_key_id": "AKID",
        "aws_secret_access_key": "secret",
        "config": config,
    }
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    s3 = await s3_client(exits, kwargs)
    sent: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> None:
        sent["url"], sent["authorization"] = request.url, request.headers["Authorization"]
        raise Captured

    s3.meta.events.register("before-send.s3.PutObject", capture)
    key = "archive/tenant=a%2Fb c/date=2026-11-28/req_1.json"
    with pytest.raises(Captured):
        await s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    signed = await open_signed_put(
        exits, session=get_session(), s3_client=s3, client_kwargs=kwargs, bucket=bucket
    )
    assert signed is not None
    target = await signed.resolve_target()
    assert target is not None
    ours = signed_request(target, ReadOnlyCredentials("AKID", "secret", None), key, b"{}", {})
    assert ours.url == sent["url"]

    def scope(authorization: str | bytes) -> list[str]:
        text = authorization.decode() if isinstance(authorization, bytes) else authorization
        return text.split("Credential=AKID/")[1].split(",")[0].split("/")[1:]

    assert scope(ours.headers["Authorization"]) == scope(sent["authorization"])


async def test_s3_express_buckets_stay_on_the_client(exits: AsyncExitStack) -> None:
    kwargs = client_kwargs("https://s3.us-east-1.amazonaws.com")
    del kwargs["endpoint_url"]
    s3 = await s3_client(exits, kwargs)
    signed = await open_signed_put(
        exits,
        session=get_session(),
        s3_client=s3,
        client_kwargs=kwargs,
        bucket="archive--use1-az4--x-s3",
    )
    assert signed is not None
    assert await signed.resolve_target() is None
    assert signed.enabled is False
    assert await signed.put("k", b"{}", {}) is False  # no request made: nothing listens


def test_checksum_header_is_the_one_botocore_computes() -> None:
    body = "héllo ✓".encode() * 100
    checksum = Crc32Checksum()
    checksum.update(body)
    assert signed_headers(body, {})["x-amz-checksum-crc32"] == checksum.b64digest()


async def test_an_http_proxy_keeps_every_put_on_the_client(
    aws_env: str, exits: AsyncExitStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    kwargs = client_kwargs(aws_env)
    s3 = await s3_client(exits, kwargs)
    opened = await open_signed_put(
        exits, session=get_session(), s3_client=s3, client_kwargs=kwargs, bucket="any"
    )
    assert opened is None


# --- fallbacks: a fault server answers the signed put, moto takes it through the client ----


class FaultServer:
    """Answers every PUT with ``status`` and ``code`` (or late, when ``hang``); counts them."""

    def __init__(self) -> None:
        self.status = 503
        self.code = "SlowDown"
        self.hang = False
        self.puts = 0
        self.headers: dict[str, str] = {}
        self.body = b""

    async def handle(self, request: web.Request) -> web.Response:
        self.puts += 1
        self.headers = dict(request.headers)
        self.body = await request.read()
        if self.hang:
            await asyncio.sleep(5)
        if self.status == 200:
            return web.Response(status=200)
        error = f"<Error><Code>{self.code}</Code><Message>injected</Message></Error>"
        return web.Response(status=self.status, text=error, content_type="application/xml")


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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def faulty_archiver(
    exits: AsyncExitStack, moto: str, faults_url: str, *, read_timeout: float = 5
) -> tuple[Archiver, SignedPut, Any, str, Clock]:
    """An archiver whose signed path resolves the fault server's URL; its client uses moto."""
    s3 = await s3_client(exits, client_kwargs(moto))
    bucket = await new_bucket(s3)
    kwargs = client_kwargs(faults_url) | {"config": Config(read_timeout=read_timeout)}
    clock = Clock()
    signed = await open_signed_put(
        exits,
        session=get_session(),
        s3_client=await s3_client(exits, kwargs),
        client_kwargs=kwargs,
        bucket=bucket,
        clock=clock,
    )
    assert signed is not None
    return Archiver(s3_client=s3, bucket=bucket, signed_put=signed), signed, s3, bucket, clock


async def stored(s3: Any, bucket: str, key: str) -> str:
    response = await s3.get_object(Bucket=bucket, Key=key)
    return str(json.loads(await response["Body"].read())["request_id"])


async def test_transient_answers_go_to_the_client_and_rest_the_path_only_in_a_row(
    aws_env: str, exits: AsyncExitStack, fault_server: tuple[str, FaultServer]
) -> None:
    url, faults = fault_server
    archiver, signed, s3, bucket, clock = await faulty_archiver(exits, aws_env, url)
    for n in range(FAILURES_IN_A_ROW - 1):
        key = await archiver.put(record(request=f"req_{n}"))
        assert await stored(s3, bucket, key) == f"req_{n}"
    assert (faults.puts, signed.declined, signed.resting) == (2, 2, False)
    faults.status = 200  # a success between failures resets the count
    await archiver.put(record(request="req_ok"))
    faults.status, faults.code = 400, "RequestTimeout"  # a 400 that retrying fixes
    for n in range(FAILURES_IN_A_ROW):
        key = await archiver.put(record(request=f"req_late_{n}"))
        assert await stored(s3, bucket, key) == f"req_late_{n}"
    assert (signed.stored, signed.declined, signed.resting) == (1, 5, True)
    clock.now += SUSPEND_AFTER_FAILURES + 1
    assert signed.resting is False
    # What the emulator does not check, seen by the fault server: scope, checksum, hash.
    authorization = faults.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert f"/{REGION}/s3/aws4_request" in authorization
    signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"content-type", "host", "x-amz-checksum-crc32", "x-amz-date"} <= set(signed_names)
    assert faults.headers["X-Amz-Content-SHA256"] == hashlib.sha256(faults.body).hexdigest()
    assert (
        faults.headers["x-amz-checksum-crc32"]
        == signed_headers(faults.body, {})["x-amz-checksum-crc32"]
    )


async def test_a_refusal_rests_the_path_then_it_tries_again(
    aws_env: str, exits: AsyncExitStack, fault_server: tuple[str, FaultServer]
) -> None:
    url, faults = fault_server
    faults.status, faults.code = 403, "AccessDenied"
    archiver, signed, s3, bucket, clock = await faulty_archiver(exits, aws_env, url)
    for n in range(2):
        key = await archiver.put(record(request=f"req_{n}"))
        assert await stored(s3, bucket, key) == f"req_{n}"
    assert (faults.puts, signed.declined, signed.skipped, signed.resting) == (1, 1, 1, True)
    clock.now += SUSPEND_AFTER_REFUSAL + 1
    faults.status = 200
    await archiver.put(record(request="req_back"))
    assert (faults.puts, signed.stored) == (2, 1)


async def test_a_hung_endpoint_times_out_and_the_client_stores_the_object(
    aws_env: str, exits: AsyncExitStack, fault_server: tuple[str, FaultServer]
) -> None:
    url, faults = fault_server
    faults.hang = True
    archiver, signed, s3, bucket, _ = await faulty_archiver(exits, aws_env, url, read_timeout=0.3)
    key = await asyncio.wait_for(archiver.put(record(request="req_hung")), timeout=5)
    assert await stored(s3, bucket, key) == "req_hung"
    assert (faults.puts, signed.declined, signed.resting) == (1, 1, False)
