"""The client against a running ``agatha local up`` (subprocess on a free port)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from agatha.client import AgathaClient, AsyncAgathaClient, Inference, Result
from agatha.client import errors as e
from tests.agatha.local.platform_proc import Platform, serving

pytestmark = pytest.mark.slow
KEY_REQUESTS_PER_MINUTE = 3


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    # Tiny per-key limit; every test gets its own key, so only the 429 test reaches it.
    env = {"RATE_LIMIT_KEY_REQUESTS_PER_MINUTE": str(KEY_REQUESTS_PER_MINUTE)}
    with serving(tmp_path_factory.mktemp("live") / "state", env=env) as running:
        yield running


@pytest.fixture(scope="module")
def idle_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A gateway without a worker: requests stay pending, so cancel and holds are exact."""
    with serving(tmp_path_factory.mktemp("idle") / "state", "--no-worker") as running:
        yield running


def new_key(platform: Platform) -> str:
    """A fresh user key of the demo tenant (the demo key is admin)."""
    response = httpx.post(
        f"{platform.record.url}/api/admin/keys",
        json={"name": "test", "role": "user"},
        headers={"Authorization": f"Bearer {platform.api_key}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def client(platform: Platform, key: str | None = None) -> AgathaClient:
    return AgathaClient(platform.record.url, key or new_key(platform))


def test_infer_returns_the_local_models_answer(platform: Platform) -> None:
    with client(platform) as c:
        result = c.infer("one two three four", model="local-echo", timeout=60)
        status = c.get(result.id)
    assert result.response.startswith("[local-echo] 4 words")
    assert (result.provider, result.tokens_in) == ("local", 4)
    assert status.status == "completed"
    assert status.done


async def test_async_client_infers_too(platform: Platform) -> None:
    async with AsyncAgathaClient(platform.record.url, new_key(platform)) as c:
        result = await c.infer("async hello", model="local-echo", timeout=60)
    assert result.response.startswith("[local-echo] 2 words")


def test_long_poll_returns_the_result_in_one_request(platform: Platform) -> None:
    with client(platform) as c:
        submitted = c.submit("long poll please", model="local-echo")
        outcome = c.result(submitted.id, wait=20)
    assert isinstance(outcome, Result)
    assert outcome.id == submitted.id


def test_unknown_key_is_an_authentication_error(platform: Platform) -> None:
    with (
        client(platform, "agk_not-a-real-key-000000000000") as c,
        pytest.raises(e.AuthenticationError) as caught,
    ):
        c.submit("hi", model="local-echo")
    assert caught.value.status == 401
    assert caught.value.code == "unauthenticated"


def test_unknown_request_id_is_not_found(platform: Platform) -> None:
    with client(platform) as c, pytest.raises(e.NotFound) as caught:
        c.get("req_00000000000000000000000000")
    assert caught.value.code == "not_found"


def test_out_of_range_parameter_is_a_validation_error_naming_the_field(
    platform: Platform,
) -> None:
    with client(platform) as c, pytest.raises(e.ValidationError) as caught:
        c.submit("hi", model="local-echo", parameters={"temperature": 5})
    assert caught.value.status == 422
    assert caught.value.field == "parameters.temperature"


def test_exhausted_key_is_rate_limited_with_retry_after(platform: Platform) -> None:
    with client(platform) as c:
        for _ in range(KEY_REQUESTS_PER_MINUTE):
            c.submit("hi", model="local-echo")
        with pytest.raises(e.RateLimited) as caught:
            c.submit("hi", model="local-echo")
    assert caught.value.status == 429
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0


def test_cancel_of_a_pending_request_makes_its_result_gone(idle_platform: Platform) -> None:
    with client(idle_platform, idle_platform.api_key) as c:
        submitted = c.submit("never processed", model="local-echo")
        cancelled = c.cancel(submitted.id)
        with pytest.raises(e.RequestGone) as caught:
            c.result(submitted.id)
    assert cancelled.status == "cancelled"
    assert caught.value.status == 410


def test_long_poll_holds_a_pending_request_then_answers_202(idle_platform: Platform) -> None:
    with client(idle_platform, idle_platform.api_key) as c:
        submitted = c.submit("stays pending", model="local-echo")
        started = time.monotonic()
        outcome = c.result(submitted.id, wait=2)
        held = time.monotonic() - started
        with pytest.raises(e.WaitTimeout) as caught:
            c.wait(submitted.id, timeout=1.5)
    assert isinstance(outcome, Inference)
    assert outcome.status == "pending"
    assert outcome.retry_after is not None
    assert held >= 1.0  # the gateway stops up to one 0.5 s backoff step early
    assert caught.value.request_id == submitted.id


def test_infer_command_prints_the_response_and_exits_zero(platform: Platform) -> None:
    from click.testing import CliRunner

    from agatha.client.cli import infer

    args = ["hello cli", "--wait", "--url", platform.record.url, "--api-key", new_key(platform)]
    result = CliRunner().invoke(infer, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("[local-echo] 2 words")


def test_infer_command_without_wait_prints_the_request_and_result_url(
    idle_platform: Platform,
) -> None:
    from click.testing import CliRunner

    from agatha.client.cli import infer

    env = {"AGATHA_LOCAL_STATE_DIR": str(idle_platform.log.parent / "state")}
    result = CliRunner().invoke(infer, ["hi", "--output", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"status": "pending"' in result.output
    assert f'"result": "{idle_platform.record.url}/api/inference/req_' in result.output
