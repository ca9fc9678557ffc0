"""moto AWS emulator in server mode on 127.0.0.1, reset per test, seeded like a deployed stack."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from runbooks.aws import AwsSession
from tests.runbooks.opskit import REGION, Platform, seed_platform


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    # werkzeug logs each request, and a traceback for operations moto lacks.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point boto3 (and the CLI) at a freshly reset emulator; audit log and project in tmp."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AGATHA_STACK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AGATHA_AUDIT_LOG", str(tmp_path / "audit.log"))
    monkeypatch.setenv("AGATHA_PROJECT_DIR", str(tmp_path))
    return moto_endpoint


@pytest.fixture
def aws(aws_env: str) -> AwsSession:
    return AwsSession(region=REGION)


@pytest.fixture
def platform(aws_env: str) -> Platform:
    return seed_platform()
