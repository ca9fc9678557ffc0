"""The synchronous client: submit, status, result (long-poll), wait, cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from agatha.client import _protocol as wire
from agatha.client.errors import TransportError, WaitTimeout
from agatha.client.models import Inference, Result


class AgathaClient:
    """A typed client for the gateway's 202-and-poll API (one connection pool)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = wire.DEFAULT_TIMEOUT,
        long_poll: float = wire.DEFAULT_LONG_POLL,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._long_poll = long_poll
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=wire.auth_headers(api_key),
            timeout=timeout,
            transport=transport,
        )

    def _send(self, call: wire.Call) -> httpx.Response:
        try:
            return self._http.request(
                call.method,
                call.path,
                json=call.json,
                params=call.params,
                headers=call.headers,
                timeout=self._timeout + call.extra_timeout,
            )
        except httpx.TransportError as exc:
            raise TransportError(wire.transport_message(self.base_url, exc)) from exc

    def submit(
        self,
        prompt: str,
        *,
        model: str,
        parameters: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Inference:
        """Queue a prompt; returns the pending request (202)."""
        call = wire.submit_call(
            prompt, model=model, parameters=parameters, idempotency_key=idempotency_key
        )
        return wire.parse_inference(self._send(call))

    def get(self, request_id: str) -> Inference:
        """The request's status and timestamps."""
        return wire.parse_inference(self._send(wire.status_call(request_id)))

    def result(self, request_id: str, *, wait: float = 0.0) -> Result | Inference:
        """The result if completed, else the running request; ``wait`` long-polls."""
        return wire.parse_result(self._send(wire.result_call(request_id, wait=wait)))

    def cancel(self, request_id: str) -> Inference:
        """Best-effort cancel; the returned status says whether it took effect."""
        return wire.parse_inference(self._send(wire.cancel_call(request_id)))

    def wait(self, request_id: str, *, timeout: float = 60.0) -> Result:
        """Poll until the result is ready (long-poll, then Retry-After), or WaitTimeout."""
        deadline = self._clock() + timeout
        while True:
            sent = self._clock()
            outcome = self.result(request_id, wait=wire.poll_wait(self._long_poll, deadline - sent))
            if isinstance(outcome, Result):
                return outcome
            now = self._clock()
            if now >= deadline:
                raise WaitTimeout(
                    f"request {request_id} still {outcome.status} after {timeout:g} s; "
                    "wait again or cancel it",
                    request_id=request_id,
                )
            self._sleep(
                wire.next_delay(
                    retry_after=outcome.retry_after, elapsed=now - sent, remaining=deadline - now
                )
            )

    def infer(
        self,
        prompt: str,
        *,
        model: str,
        parameters: dict[str, Any] | None = None,
        timeout: float = 60.0,
    ) -> Result:
        """Submit and wait for the result."""
        submitted = self.submit(prompt, model=model, parameters=parameters)
        return self.wait(submitted.id, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AgathaClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
