"""The client's polling, long-poll and error mapping against a scripted gateway (no network)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from agatha.client import AgathaClient, AsyncAgathaClient
from agatha.client import errors as e
from agatha.client._protocol import next_delay, poll_wait, result_call

PENDING = {
    "id": "req_1",
    "status": "pending",
    "model": "local-echo",
    "createdAt": "2026-01-01T00:00:00Z",
    "updatedAt": "2026-01-01T00:00:00Z",
    "links": {"self": "/api/inference/req_1", "result": "/api/inference/req_1/result"},
}
DONE = {
    "id": "req_1",
    "status": "completed",
    "model": "local-echo",
    "provider": "local",
    "response": "hi",
    "tokens": {"input": 1, "output": 2, "total": 3},
    "processingTime": 7,
    "completedAt": "2026-01-01T00:00:01Z",
}


class FakeTime:
    """A clock the scripted gateway and the client's sleep both move."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


Script = list[Callable[[httpx.Request], httpx.Response]]


def scripted(
    script: Script, seen: list[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return script.pop(0)(request)

    return handler


def pending(time: FakeTime, *, hold: float = 0.0, retry_after: str = "2") -> Callable:
    def answer(_request: httpx.Request) -> httpx.Response:
        time.now += hold  # the server held a long-poll this long
        return httpx.Response(202, json=PENDING, headers={"Retry-After": retry_after})

    return answer


def done(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=DONE)


def client_for(
    script: Script, time: FakeTime, seen: list[httpx.Request], **kw: float
) -> AgathaClient:
    return AgathaClient(
        "http://gw",
        "agk_test",
        transport=httpx.MockTransport(scripted(script, seen)),
        sleep=time.sleep,
        clock=time.clock,
        **kw,
    )


def test_wait_waits_out_retry_after_after_a_quick_202() -> None:
    time, seen = FakeTime(), []
    with client_for([pending(time, hold=0.5), done], time, seen, long_poll=0) as client:
        result = client.wait("req_1", timeout=30)
    assert result.response == "hi"
    assert result.tokens_total == 3
    assert time.sleeps == [1.5]  # Retry-After 2 s counted from when the poll was sent
    assert "wait" not in seen[0].url.params
    assert seen[0].headers["Authorization"] == "Bearer agk_test"


def test_wait_polls_again_at_once_after_a_full_long_poll() -> None:
    time, seen = FakeTime(), []
    with client_for([pending(time, hold=10), done], time, seen, long_poll=10) as client:
        client.wait("req_1", timeout=60)
    assert seen[0].url.params["wait"] == "10"
    assert time.sleeps == [0.0]


def test_wait_never_asks_the_server_to_hold_past_the_deadline() -> None:
    time, seen = FakeTime(), []
    with client_for([pending(time, hold=1), done], time, seen, long_poll=20) as client:
        client.wait("req_1", timeout=3)
    assert seen[0].url.params["wait"] == "3"
    assert seen[1].url.params["wait"] == "1"  # what is left after hold and Retry-After


def test_wait_gives_up_at_the_deadline_with_the_request_id() -> None:
    time, seen = FakeTime(), []
    with (
        client_for([pending(time, hold=3)], time, seen, long_poll=20) as client,
        pytest.raises(e.WaitTimeout, match="still pending after 3 s") as caught,
    ):
        client.wait("req_1", timeout=3)
    assert caught.value.request_id == "req_1"
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, e.AuthenticationError),
        (403, e.PermissionDenied),
        (404, e.NotFound),
        (410, e.RequestGone),
        (413, e.BadRequest),
        (422, e.ValidationError),
        (424, e.RequestFailed),
        (429, e.RateLimited),
        (503, e.ServerError),
    ],
)
def test_error_answers_raise_typed_exceptions(status: int, error: type[e.ApiError]) -> None:
    body = {
        "error": {"code": "x_code", "message": "what to do", "field": "prompt", "requestId": "rid"}
    }

    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers={"Retry-After": "7"})

    with client_for([answer], FakeTime(), []) as client, pytest.raises(error) as caught:
        client.submit("hi", model="local-echo")
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        status,
        "x_code",
        "prompt",
    )
    assert caught.value.request_id == "rid"
    assert caught.value.retry_after == 7.0
    assert f"HTTP {status} x_code: what to do" in str(caught.value)


def test_error_without_our_body_still_raises_with_the_text() -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="Bad Gateway")

    with (
        client_for([answer], FakeTime(), []) as client,
        pytest.raises(e.ServerError, match="Bad Gateway"),
    ):
        client.get("req_1")


def test_unreachable_gateway_raises_transport_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = AgathaClient("http://gw", "k", transport=httpx.MockTransport(refuse))
    with client, pytest.raises(e.TransportError, match="cannot reach the gateway at http://gw"):
        client.get("req_1")


def test_submit_sends_model_parameters_and_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def accepted(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(202, json=PENDING, headers={"Retry-After": "2"})

    with client_for([accepted], FakeTime(), seen) as client:
        submitted = client.submit(
            "hi", model="local-echo", parameters={"maxTokens": 5}, idempotency_key="abc"
        )
    assert submitted.status == "pending"
    assert not submitted.done
    assert seen[0].headers["Idempotency-Key"] == "abc"
    assert seen[0].content == b'{"prompt":"hi","model":"local-echo","parameters":{"maxTokens":5}}'


def test_request_ids_are_path_escaped() -> None:
    assert result_call("a/b", wait=0).path == "/api/inference/a%2Fb/result"


def test_poll_timing_helpers_are_bounded() -> None:
    assert poll_wait(20, 3.5) == 3.5
    assert poll_wait(90, 100) == 60  # the gateway caps wait at 60 s
    assert next_delay(retry_after=None, elapsed=0.0, remaining=10) == 1.0
    assert next_delay(retry_after=0, elapsed=0.0, remaining=10) == 0.05  # never a busy loop
    assert next_delay(retry_after=5, elapsed=0.0, remaining=2) == 2


async def test_async_client_waits_like_the_sync_one() -> None:
    time, seen = FakeTime(), []
    script: Script = [pending(time, hold=0.25, retry_after="1"), done]

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return script.pop(0)(request)

    async with AsyncAgathaClient(
        "http://gw",
        "agk_test",
        transport=httpx.MockTransport(handler),
        sleep=time.asleep,
        clock=time.clock,
        long_poll=0,
    ) as client:
        result = await client.wait("req_1", timeout=10)
    assert result.processing_ms == 7
    assert time.sleeps == [0.75]
    assert len(seen) == 2
