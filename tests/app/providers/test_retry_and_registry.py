"""Retry policy, Retry-After parsing, key loading, registry and the local provider."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import boto3
import pytest

from app.providers.base import Completion, CompletionRequest, parse_retry_after
from app.providers.errors import InvalidCredentials, ProviderServerError, UnknownModel
from app.providers.keys import ApiKeyResolver
from app.providers.local import LocalProvider
from app.providers.registry import ProviderRegistry, default_factories
from app.providers.retry import RetryPolicy, call_with_retries


class Flaky:
    name = "flaky"

    def __init__(self, failures: list[ProviderServerError]) -> None:
        self.failures, self.calls = failures, 0

    async def complete(self, request: CompletionRequest, *, timeout: float) -> Completion:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return Completion("ok", 1, 1, self.name, request.model)

    async def aclose(self) -> None:
        return None


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert [policy.delay(n, retry_after=None, jitter=0.0) for n in (1, 2, 3, 4, 5)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
    ]
    assert policy.delay(3, retry_after=None, jitter=1.0) == 4.0


def test_retry_after_is_never_undercut() -> None:
    assert RetryPolicy(base_delay=0.1).delay(1, retry_after=7.0, jitter=0.5) == 7.0


async def test_retries_until_success_sleeping_the_policy_delays() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    flaky = Flaky([ProviderServerError("x", provider="flaky", retry_after=3.0)] * 2)
    result = await call_with_retries(
        flaky,
        CompletionRequest(model="m", prompt="p"),
        timeout=1,
        policy=RetryPolicy(max_attempts=3),
        sleep=sleep,
        jitter=lambda: 0.0,
    )
    assert (result.text, flaky.calls, slept) == ("ok", 3, [3.0, 3.0])


async def test_gives_up_after_max_attempts_or_overlong_retry_after() -> None:
    async def sleep(_: float) -> None:
        return None

    bounded = Flaky([ProviderServerError("x", provider="flaky")] * 5)
    with pytest.raises(ProviderServerError):
        await call_with_retries(
            bounded,
            CompletionRequest(model="m", prompt="p"),
            timeout=1,
            policy=RetryPolicy(max_attempts=2),
            sleep=sleep,
        )
    patient = Flaky([ProviderServerError("x", provider="flaky", retry_after=600)])
    with pytest.raises(ProviderServerError):
        await call_with_retries(
            patient,
            CompletionRequest(model="m", prompt="p"),
            timeout=1,
            policy=RetryPolicy(max_attempts=5, max_retry_after=60),
            sleep=sleep,
        )
    assert (bounded.calls, patient.calls) == (2, 1)


def test_parse_retry_after_reads_seconds_millis_and_http_dates() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after({"Retry-After": "12"}) == 12.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    date = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"Retry-After": date}, now=now) == 30.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after(None) is None


async def test_keys_prefer_env_override_then_secrets_manager(aws_env: str) -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=aws_env)
    arn = client.create_secret(
        Name=f"agatha/openai-{datetime.now(UTC).timestamp()}",
        SecretString=json.dumps({"api_key": "sk-from-secret"}),
    )["ARN"]

    def read_secret(secret_arn: str) -> str:
        return str(client.get_secret_value(SecretId=secret_arn)["SecretString"])

    resolver = ApiKeyResolver(
        env_keys={"anthropic": "sk-ant-env"},
        secret_arns={"openai": arn, "anthropic": "arn:unused"},
        read_secret=read_secret,
    )
    assert await resolver.get("openai") == "sk-from-secret"
    assert await resolver.get("anthropic") == "sk-ant-env"
    with pytest.raises(InvalidCredentials, match="GOOGLE_SECRET_ARN"):
        await resolver.get("google")


async def test_registry_selects_by_catalogue_and_rejects_unknown_models() -> None:
    resolver = ApiKeyResolver(env_keys={}, secret_arns={}, read_secret=str)
    registry = ProviderRegistry(
        catalogue={"local-echo": "local", "gpt-4o": "openai"},
        factories=default_factories(keys=resolver),
    )
    assert (await registry.for_model("local-echo")).name == "local"
    with pytest.raises(UnknownModel, match="local-echo"):
        await registry.for_model("gpt-5-turbo-max")
    with pytest.raises(InvalidCredentials):
        await registry.for_model("gpt-4o")  # no key configured: fails permanently, clearly


async def test_local_provider_is_deterministic() -> None:
    request = CompletionRequest(model="local-echo", prompt="one two three")
    first = await LocalProvider().complete(request, timeout=1)
    second = await LocalProvider().complete(request, timeout=1)
    assert first == second
    assert (first.tokens_in, first.provider) == (3, "local")
