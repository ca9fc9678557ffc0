"""JWT verification against a key ring loaded from the Secrets Manager secret.

The secret holds ``{"keys": [{"kid", "secret" | "public_key", "alg"?, "status"}]}``;
``current`` and ``previous`` keys verify (rotation overlap), others do not. The algorithm
comes from the key, never from the token: ``alg: none`` and HS/RS confusion are refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import structlog
from botocore.exceptions import BotoCoreError, ClientError

from app.auth.principal import Principal, Role
from app.errors import AuthenticationFailed, ConfigurationError, DependencyUnavailable

LOG = structlog.get_logger("app.auth")

ACCEPTED_STATUSES = frozenset({"current", "previous"})
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"})
MIN_HMAC_BYTES = 32
RELOAD_MIN_INTERVAL = 10.0
RELOAD_MAX_AGE = 300.0
# Verified tokens are remembered until they expire or the key set reloads: clients send
# the same token for its whole life, and a cache hit costs ~1 us instead of a header
# parse, key preparation and signature check (~30-50 us). Bounded: cleared when full.
MAX_VERIFIED_TOKENS = 10_000


@dataclass(frozen=True)
class VerificationKey:
    """One usable key: its algorithm is fixed here, not taken from tokens."""

    kid: str
    algorithm: str
    key: Any
    status: str


def parse_key_set(document: Mapping[str, Any]) -> dict[str, VerificationKey]:
    """Parse the secret JSON into usable keys (current and previous only)."""
    keys: dict[str, VerificationKey] = {}
    for entry in document.get("keys", []):
        status = str(entry.get("status", "current"))
        if status not in ACCEPTED_STATUSES:
            continue
        kid = str(entry["kid"])
        if "secret" in entry:
            algorithm = str(entry.get("alg", "HS256"))
            material: Any = str(entry["secret"]).encode()
            if algorithm not in HMAC_ALGORITHMS or len(material) < MIN_HMAC_BYTES:
                raise ConfigurationError(
                    f"JWT key {kid!r}: HMAC keys need alg HS256/384/512 and >= 32 bytes"
                )
        elif "public_key" in entry:
            algorithm = str(entry.get("alg", "RS256"))
            if algorithm not in ASYMMETRIC_ALGORITHMS:
                raise ConfigurationError(f"JWT key {kid!r}: alg {algorithm} is not asymmetric")
            material = jwt.PyJWK.from_dict(_pem_to_jwk(entry["public_key"], algorithm)).key
        else:
            raise ConfigurationError(f"JWT key {kid!r} has neither 'secret' nor 'public_key'")
        keys[kid] = VerificationKey(kid, algorithm, material, status)
    if not keys:
        raise ConfigurationError("the JWT signing secret holds no current or previous key")
    return keys


def _pem_to_jwk(pem: str, algorithm: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    public_key = load_pem_public_key(pem.encode())
    algo = jwt.get_algorithm_by_name(algorithm)
    jwk: dict[str, Any] = algo.to_jwk(public_key, as_dict=True)
    return jwk | {"alg": algorithm}


class KeyRing:
    """Verification keys, refreshed from the secret periodically and on an unknown kid."""

    def __init__(
        self,
        loader: Callable[[], Mapping[str, Any]],
        *,
        issuer: str,
        audience: str,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._loader = loader
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._wall_clock = wall_clock
        self._keys: dict[str, VerificationKey] = {}
        self._loaded_at = float("-inf")
        # token -> (exp, caller); only tokens this key set verified, dropped on reload.
        self._verified: dict[str, tuple[float, Principal]] = {}

    def refresh(self) -> None:
        """Reload the key set from the secret (blocking; called off the hot path).

        When Secrets Manager does not answer, keys already loaded stay in use (tokens keep
        working through an outage) and the reload is retried after ``RELOAD_MIN_INTERVAL``;
        with no keys at all the caller gets a 503 with Retry-After, not a 500.
        """
        try:
            loaded = self._loader()
        except (BotoCoreError, ClientError, OSError) as exc:
            if not self._keys:
                raise DependencyUnavailable(
                    f"JWT signing keys unavailable: {type(exc).__name__}", dependency="secrets"
                ) from exc
            LOG.warning("jwt.keys_reload_failed", error_type=type(exc).__name__)
            self._loaded_at = self._clock() - RELOAD_MAX_AGE + RELOAD_MIN_INTERVAL
            return
        self._keys = parse_key_set(loaded)
        # A key may have been retired: its tokens must be verified again.
        self._verified = {}
        self._loaded_at = self._clock()

    def needs_refresh(self, kid: str | None = None) -> bool:
        """True when keys are stale, or ``kid`` is unknown and a reload is allowed now."""
        age = self._clock() - self._loaded_at
        if age > RELOAD_MAX_AGE:
            return True
        return kid is not None and kid not in self._keys and age > RELOAD_MIN_INTERVAL

    def cached(self, token: str) -> Principal | None:
        """The caller of ``token`` if this key set already verified it and it has not expired.

        Only ``exp`` can turn a verified token invalid later (``nbf``/``iat`` only become
        valid); a key reload empties the cache, so retired keys stop working at once.
        """
        hit = self._verified.get(token)
        if hit is None:
            return None
        if hit[0] <= self._wall_clock():
            del self._verified[token]
            return None
        return hit[1]

    def verify(self, token: str) -> Principal:
        """Verify signature, kid, issuer, audience and expiry; return the caller."""
        cached = self.cached(token)
        if cached is not None:
            return cached
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed("malformed bearer token") from exc
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise AuthenticationFailed("token signed with an unknown key (kid)")
        if header.get("alg") != key.algorithm:
            raise AuthenticationFailed("token algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "aud", "sub", "tenant"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationFailed("token expired; obtain a new one") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(f"token rejected: {exc}") from exc
        principal = _principal(claims)
        if len(self._verified) >= MAX_VERIFIED_TOKENS:
            self._verified = {}
        self._verified[token] = (float(claims["exp"]), principal)
        return principal


def _principal(claims: Mapping[str, Any]) -> Principal:
    try:
        role = Role(str(claims.get("role", Role.USER.value)))
    except ValueError as exc:
        raise AuthenticationFailed("token carries an unknown role") from exc
    return Principal(tenant_id=str(claims["tenant"]), subject=str(claims["sub"]), role=role)
