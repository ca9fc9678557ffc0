"""Dependencies, declared once as Annotated aliases."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

import jwt
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from app.auth.api_keys import looks_like_api_key
from app.auth.principal import Principal
from app.errors import AuthenticationFailed, PermissionDenied
from app.gateway.accept import DB_ERRORS, db_unavailable
from app.gateway.state import Gateway

bearer = HTTPBearer(
    auto_error=False,
    description="A JWT (issuer, audience, exp, kid) or an API key starting with agk_.",
)


async def get_gateway(request: Request) -> Gateway:
    """The app instance's resources (set in the lifespan)."""
    # async: a plain def dependency costs a threadpool hop on every request.
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def get_principal(gw: GatewayDep, credentials: CredentialsDep) -> Principal:
    """Authenticate the bearer credential and refuse API keys revoked in any process."""
    principal = await authenticate(gw, credentials)
    # Key caches live up to 30 s per process; the shared marker makes revocation immediate.
    if principal.key_id is not None and await gw.limiter.is_revoked(principal.key_id):
        gw.key_cache.forget_all()
        raise AuthenticationFailed("API key is unknown or revoked")
    return principal


@dataclass(frozen=True)
class AcceptContext:
    """What the accept route needs: the resources and the authenticated caller."""

    gw: Gateway
    principal: Principal


async def get_accept_context(request: Request) -> AcceptContext:
    """One flat dependency for the hot route (revocation is checked in the rate-limit call).

    FastAPI pays per dependency per request (solving, cache keys, ``inspect.unwrap`` of
    each callable): the gateway, ``HTTPBearer`` and the principal as three nested
    dependencies cost more CPU than the JWT check itself. The bearer header is parsed
    here exactly as ``HTTPBearer(auto_error=False)`` parses it; the route still declares
    the ``HTTPBearer`` scheme in OpenAPI.
    """
    gw: Gateway = request.app.state.gateway
    return AcceptContext(gw, await authenticate(gw, bearer_credentials(request)))


def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """``Authorization: Bearer <token>`` as ``HTTPBearer(auto_error=False)`` returns it."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if not (scheme and token) or scheme.lower() != "bearer":
        return None
    return HTTPAuthorizationCredentials(scheme=scheme, credentials=token)


async def authenticate(gw: Gateway, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """Authenticate the bearer credential (API key or JWT)."""
    if credentials is None or not credentials.credentials:
        raise AuthenticationFailed(
            "missing credentials; send Authorization: Bearer <JWT or API key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials
    if looks_like_api_key(token):
        try:
            return await gw.key_cache.authenticate(token)
        except DB_ERRORS as exc:
            raise db_unavailable(exc) from exc
    if gw.keyring.needs_refresh():  # stale key set: reload (empties the verified tokens)
        await asyncio.to_thread(gw.keyring.refresh)
    known = gw.keyring.cached(token)
    if known is not None:
        return known
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        kid = None  # verify() below answers the 401 with the reason
    if gw.keyring.needs_refresh(str(kid) if kid else None):
        await asyncio.to_thread(gw.keyring.refresh)
    return gw.keyring.verify(token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
AcceptContextDep = Annotated[AcceptContext, Depends(get_accept_context)]


async def require_admin(principal: PrincipalDep) -> Principal:
    """Only the admin role may manage keys and read usage."""
    if not principal.is_admin:
        raise PermissionDenied("this route needs the admin role")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]
IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Optional; same key + same body returns the original request, same key + "
        "different body answers 422. Keys are tenant-scoped and retained for "
        "IDEMPOTENCY_RETENTION_HOURS (default 24 h).",
    ),
]
