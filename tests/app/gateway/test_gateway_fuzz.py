"""Schema-driven fuzz: random inputs to every operation of the served OpenAPI schema, no 5xx."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from app.db import accounts
from app.gateway import create_app
from app.settings import Settings

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
PARAMETER_NAMES = ["temperature", "topP", "maxTokens", "stop", "seed", "presencePenalty", "bogus"]
INFERENCE_BODY = st.fixed_dictionaries(
    {"prompt": st.text(max_size=80) | JSON, "model": st.sampled_from(["local-echo", "x"]) | JSON},
    optional={"parameters": st.dictionaries(st.sampled_from(PARAMETER_NAMES), JSON, max_size=4)},
)
BODIES = INFERENCE_BODY | JSON
PATH_VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30
) | st.just("req_00000000000000000000000000")
QUERY_VALUES = st.text(max_size=20) | st.integers(min_value=-5, max_value=100).map(str)


@pytest.fixture
def fuzz_client(
    aws_env: str, jwt_keys: Any, queue_url: str, sqlite_url: str
) -> Iterator[tuple[TestClient, list[tuple[str, str]], dict[str, str]]]:
    app = create_app(
        Settings(
            agatha_env="test",
            database_url=sqlite_url,
            aws_endpoint_url=aws_env,
            queue_url=queue_url,
            jwt_signing_secret_arn=jwt_keys.secret_arn,
            jwt_issuer="https://auth.test.agatha",
            jwt_audience="agatha-api-test",
            log_level="ERROR",
            result_wait_max_seconds=0,
        )
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        engine = app.state.gateway.engine
        client.portal.call(
            functools.partial(accounts.create_tenant, engine, tenant_id="fz", name="f")
        )
        headers = {"Authorization": "Bearer " + jwt_keys.sign(tenant="fz", role="admin")}
        operations = [
            (method.upper(), path)
            for path, item in app.openapi()["paths"].items()
            for method in item
        ]
        yield client, operations, headers


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_operation_answers_5xx_to_random_input(fuzz_client, data: st.DataObject) -> None:
    client, operations, headers = fuzz_client
    method, template = data.draw(st.sampled_from(operations))
    path = template
    while "{" in path:
        name = path[path.index("{") + 1 : path.index("}")]
        path = path.replace("{" + name + "}", quote(data.draw(PATH_VALUES), safe=""))
    query = data.draw(st.dictionaries(st.sampled_from(["wait", "since", "until"]), QUERY_VALUES))
    kwargs: dict[str, Any] = {"params": query, "headers": dict(headers)}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["content"] = json.dumps(data.draw(BODIES))
        kwargs["headers"]["Content-Type"] = "application/json"
    response = client.request(method, path, **kwargs)
    assert response.status_code < 500 or (response.status_code == 503 and path == "/readyz"), (
        method,
        path,
        response.status_code,
        response.text,
    )
