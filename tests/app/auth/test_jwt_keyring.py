"""The key ring keeps verifying through a Secrets Manager outage and never answers 500."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
import pytest
from botocore.exceptions import EndpointConnectionError

from app.auth.jwt import RELOAD_MAX_AGE, KeyRing
from app.errors import AuthenticationFailed, DependencyUnavailable

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


def _signed(*, exp: int, kid: str = "k1", secret: str = SECRET) -> str:
    claims = {"iss": "i", "aud": "a", "sub": "u", "tenant": "t", "exp": exp}
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})


def test_a_verified_token_is_answered_from_the_cache_until_it_expires() -> None:
    wall = [1_000_000.0]
    ring = KeyRing(_Loader(), issuer="i", audience="a", wall_clock=lambda: wall[0])
    ring.refresh()
    token = _signed(exp=int(time.time()) + 60)
    assert ring.cached(token) is None  # never verified yet
    first = ring.verify(token)
    assert ring.cached(token) == first
    wall[0] = float(int(time.time()) + 60)  # exp reached: the cache forgets it
    assert ring.cached(token) is None


def test_a_forged_or_rejected_token_is_never_cached() -> None:
    ring = KeyRing(_Loader(), issuer="i", audience="a")
    ring.refresh()
    forged = _signed(exp=int(time.time()) + 60, secret="x" * 48)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            ring.verify(forged)
    assert ring.cached(forged) is None


def test_reloading_the_key_set_forgets_verified_tokens_of_a_retired_key() -> None:
    document: dict[str, Any] = {"keys": [dict(KEY_SET["keys"][0])]}
    ring = KeyRing(lambda: document, issuer="i", audience="a")
    ring.refresh()
    token = _signed(exp=int(time.time()) + 60)
    assert ring.verify(token).tenant_id == "t"
    document["keys"] = [{"kid": "k2", "secret": "n" * 40, "status": "current"}]
    ring.refresh()
    assert ring.cached(token) is None
    with pytest.raises(AuthenticationFailed):
        ring.verify(token)
