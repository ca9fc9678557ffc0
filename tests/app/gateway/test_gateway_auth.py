"""Authentication and authorization through HTTP: JWT failures, rotation, API keys."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BODY = {"prompt": "Hello there", "model": "local-echo", "parameters": {}}


async def _post(harness, headers: dict[str, str]):
    return await harness.client.post("/api/inference", json=BODY, headers=headers)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
    ],
)
async def test_jwt_with_bad_claims_is_refused(harness, claims, reason) -> None:
    tenant = await harness.tenant()
    response = await _post(harness, harness.user_token(tenant, **claims))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert harness.queued_messages() == []


async def test_jwt_signed_with_wrong_key_is_refused(harness) -> None:
    tenant = await harness.tenant()
    token = jwt.encode(
        {
            "iss": "https://auth.test.agatha",
            "aud": "agatha-api-test",
            "sub": "x",
            "tenant": tenant,
            "exp": int(time.time()) + 60,
        },
        "a-completely-different-secret-of-enough-length",
        algorithm="HS256",
        headers={"kid": "k1"},
    )
    assert (await _post(harness, harness.bearer(token))).status_code == 401


def _unsigned(claims: dict[str, object], header: dict[str, str]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


async def test_alg_none_is_refused(harness) -> None:
    tenant = await harness.tenant()
    claims = {
        "iss": "https://auth.test.agatha",
        "aud": "agatha-api-test",
        "sub": "x",
        "tenant": tenant,
        "exp": int(time.time()) + 60,
    }
    token = _unsigned(claims, {"alg": "none", "typ": "JWT", "kid": "k1"})
    assert (await _post(harness, harness.bearer(token))).status_code == 401


async def test_algorithm_confusion_with_public_key_as_hmac_secret_is_refused(
    harness, jwt_keys
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    jwt_keys.put([*jwt_keys.keys, {"kid": "rsa1", "public_key": pem, "status": "current"}])
    harness.gateway.keyring.refresh()
    tenant = await harness.tenant()
    claims = {
        "iss": "https://auth.test.agatha",
        "aud": "agatha-api-test",
        "sub": "x",
        "tenant": tenant,
        "exp": int(time.time()) + 60,
    }
    good = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "rsa1"})
    assert (await _post(harness, harness.bearer(good))).status_code == 202
    # HS256 signed with the PEM public key bytes: the classic confusion attack.
    import hashlib
    import hmac

    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa1"}
    unsigned = _unsigned(claims, header)[:-1]
    signature = hmac.new(pem.encode(), unsigned.encode(), hashlib.sha256).digest()
    forged = unsigned + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    assert (await _post(harness, harness.bearer(forged))).status_code == 401


async def test_previous_key_is_accepted_during_rotation_and_retired_key_is_not(
    harness, jwt_keys
) -> None:
    tenant = await harness.tenant()
    old_token = jwt_keys.sign(tenant=tenant, kid="k1")
    old = jwt_keys.keys[0]
    new = {"kid": "k2", "secret": "n" * 40, "status": "current"}
    jwt_keys.put([new, old | {"status": "previous"}])
    harness.gateway.keyring.refresh()
    new_token = jwt_keys.sign(tenant=tenant, kid="k2")
    assert (await _post(harness, harness.bearer(old_token))).status_code == 202
    assert (await _post(harness, harness.bearer(new_token))).status_code == 202
    jwt_keys.put([new])
    harness.gateway.keyring.refresh()
    assert (await _post(harness, harness.bearer(old_token))).status_code == 401


async def test_missing_credentials_answer_401_with_www_authenticate(harness) -> None:
    response = await harness.client.post("/api/inference", json=BODY)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_unknown_tenant_in_jwt_is_refused_and_nothing_queued(harness) -> None:
    response = await _post(harness, harness.user_token("t_not_registered"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "unknown_tenant"
    assert harness.queued_messages() == []


async def test_revoked_api_key_is_refused_by_a_second_gateway_instance(
    harness, start_gateway
) -> None:
    tenant = await harness.tenant()
    admin = harness.bearer(await harness.api_key(tenant, role="admin"))
    created = await harness.client.post("/api/admin/keys", json={"name": "ci"}, headers=admin)
    assert created.status_code == 201
    user = harness.bearer(created.json()["key"])
    async with start_gateway() as second:
        # The second instance has the key cached as valid before the revocation.
        assert (await _post(second, user)).status_code == 202
        revoked = await harness.client.delete(
            f"/api/admin/keys/{created.json()['id']}", headers=admin
        )
        assert revoked.status_code == 200 and revoked.json()["revoked"] is True
        if second.gateway.settings.uses_redis:
            refused = await _post(second, user)
        else:
            # Without Redis the key cache TTL (capped at 1 s) bounds staleness: expire it.
            second.gateway.key_cache.cache.clock = lambda: time.monotonic() + 1.01
            refused = await _post(second, user)
        assert refused.status_code == 401
        assert (await _post(harness, user)).status_code == 401


async def test_user_role_cannot_use_admin_routes(harness) -> None:
    tenant = await harness.tenant()
    response = await harness.client.get("/api/admin/keys", headers=harness.user_token(tenant))
    assert response.status_code == 403
