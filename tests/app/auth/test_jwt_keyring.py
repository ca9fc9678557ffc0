"""The key ring keeps verifying through a Secrets Manager outage and never answers 500."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
import pytest
from botocore.exceptions import EndpointConnectionError

from app.auth.jwt import RELOAD_MAX_AGE, KeyRing
from app.errors import DependencyUnavailable

SECRET = secrets.token_urlsafe(48)
KEY_SET = {"keys": [{"kid": "k1", "secret": SECRET, "alg": "HS256", "status": "current"}]}


class _Loader:
    def __init__(self) -> None:
        self.down = False

    def __call__(self) -> dict[str, Any]:
        if self.down:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return KEY_SET


def _token() -> str:
    claims = {"iss": "i", "aud": "a", "sub": "u", "tenant": "t", "exp": int(time.time()) + 60}
    return jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": "k1"})


def test_outage_keeps_the_loaded_keys_and_retries_later() -> None:
    now = [0.0]
    loader = _Loader()
    ring = KeyRing(loader, issuer="i", audience="a", clock=lambda: now[0])
    ring.refresh()
    loader.down = True
    now[0] += RELOAD_MAX_AGE + 1
    assert ring.needs_refresh()
    ring.refresh()  # must not raise: the cached keys stay valid
    assert ring.verify(_token()).tenant_id == "t"
    assert not ring.needs_refresh()  # no reload storm on every request
    now[0] += RELOAD_MAX_AGE
    assert ring.needs_refresh()


def test_outage_before_any_key_was_loaded_is_a_503_not_a_500() -> None:
    loader = _Loader()
    loader.down = True
    ring = KeyRing(loader, issuer="i", audience="a")
    with pytest.raises(DependencyUnavailable) as info:
        ring.refresh()
    assert info.value.retry_after > 0
