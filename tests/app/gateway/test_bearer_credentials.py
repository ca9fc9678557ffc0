"""The accept route's flat bearer parsing answers exactly what HTTPBearer would."""

from __future__ import annotations

import pytest
from fastapi.security import HTTPBearer
from starlette.requests import Request

from app.gateway.deps import bearer_credentials


def _request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer abc.def.ghi",
        "bearer agk_token",
        "BEARER  padded-token  ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearerabc",
    ],
)
async def test_bearer_parsing_matches_fastapis_http_bearer(authorization: str | None) -> None:
    expected = await HTTPBearer(auto_error=False)(_request(authorization))
    assert bearer_credentials(_request(authorization)) == expected
