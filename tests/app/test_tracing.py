"""Tracing: off by default; when on, one trace runs from the HTTP request to the provider call."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import ProxyTracerProvider, SpanKind, StatusCode
from opentelemetry.util._once import Once

from app import tracing
from app.auth.api_keys import generate_key
from app.db import accounts
from app.gateway import create_app
from app.gateway.state import Gateway
from app.settings import Settings
from app.worker.config import WorkerSettings
from app.worker.lambda_handler import job_from_record
from app.worker.messages import Outcome
from app.worker.poller import job_from_sqs
from app.worker.runtime import build_runtime

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def isolated_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenTelemetry allows one global provider per process: give each test a fresh slot."""
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())


@pytest.fixture
def spans(isolated_globals: None) -> Iterator[SpanRecorder]:
    """Tracing switched on with an in-memory exporter behind the real batch processor."""
    exporter = InMemorySpanExporter()
    provider = tracing.configure_tracing(
        default_service=tracing.GATEWAY_SERVICE, environ={}, exporter=exporter
    )
    assert provider is not None
    yield SpanRecorder(provider, exporter)
    tracing.shutdown_tracing(provider)


@dataclass
class SpanRecorder:
    provider: TracerProvider
    exporter: InMemorySpanExporter

    def finished(self) -> list[ReadableSpan]:
        self.provider.force_flush()
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        (found,) = [s for s in self.finished() if s.name == name]
        return found


def test_tracing_stays_off_without_an_endpoint(isolated_globals: None) -> None:
    assert tracing.configure_tracing(default_service="agatha-gateway", environ={}) is None
    disabled = ENDPOINT | {"OTEL_SDK_DISABLED": "true"}
    assert tracing.configure_tracing(default_service="agatha-gateway", environ=disabled) is None
    assert isinstance(trace.get_tracer_provider(), ProxyTracerProvider)
    assert not tracing.tracing_enabled()
    with tracing.span("db.insert") as current:
        assert not current.is_recording()
        assert tracing.current_traceparent() is None
    tracing.flush_tracing()


def test_provider_names_the_service_from_the_environment() -> None:
    default = tracing.build_provider(default_service="agatha-worker", environ=ENDPOINT)
    named = tracing.build_provider(
        default_service="agatha-worker",
        environ=ENDPOINT | {"OTEL_SERVICE_NAME": "billing-worker", "AGATHA_ENV": "prod"},
    )
    assert default is not None and named is not None
    try:
        assert default.resource.attributes["service.name"] == "agatha-worker"
        assert named.resource.attributes["service.name"] == "billing-worker"
        assert named.resource.attributes["deployment.environment"] == "prod"
    finally:
        default.shutdown()
        named.shutdown()


def test_exporter_speaks_grpc_by_default_and_http_when_asked() -> None:
    grpc = tracing.otlp_exporter("http://127.0.0.1:4317", protocol="")
    http = tracing.otlp_exporter("http://localhost:4318/", protocol="http/protobuf")
    try:
        assert isinstance(grpc, GrpcExporter)
        assert isinstance(http, HttpExporter)
        assert http._endpoint == "http://localhost:4318/v1/traces"
    finally:
        grpc.shutdown()
        http.shutdown()


def test_span_errors_carry_the_type_never_the_message(spans: SpanRecorder) -> None:
    with pytest.raises(ValueError), tracing.span("provider.complete"):
        raise ValueError("tell me a secret about the prompt")
    failed = spans.named("provider.complete")
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "ValueError"
    assert failed.attributes == {"error.type": "ValueError"}
    assert not failed.events


def test_malformed_traceparent_starts_a_new_trace() -> None:
    assert tracing.context_from_traceparent("00-not-a-trace-01") is None
    assert tracing.context_from_traceparent(None) is None
    assert tracing.context_from_traceparent(CLIENT_TRACEPARENT) is not None


def test_lambda_records_carry_the_traceparent_attribute() -> None:
    record = {
        "messageId": "m-1",
        "body": json.dumps({"v": 1, "id": "req_1", "tenant": "t"}),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {
            "traceparent": {"stringValue": CLIENT_TRACEPARENT, "dataType": "String"}
        },
    }
    assert job_from_record(record).traceparent == CLIENT_TRACEPARENT
    del record["messageAttributes"]
    assert job_from_record(record).traceparent is None


@asynccontextmanager
async def gateway_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client, app.state.gateway


@pytest.fixture
def settings(aws_env: str, tmp_path: Path) -> Settings:
    secrets = boto3.client("secretsmanager")
    keys = [{"kid": "k1", "secret": uuid.uuid4().hex * 2, "status": "current"}]
    arn = secrets.create_secret(
        Name=f"jwt-{uuid.uuid4().hex}", SecretString=json.dumps({"keys": keys})
    )["ARN"]
    queue = boto3.client("sqs").create_queue(QueueName=f"jobs-{uuid.uuid4().hex[:16]}")
    return Settings(
        agatha_env="test",
        log_level="WARNING",
        aws_endpoint_url=aws_env,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'agatha.db'}",
        queue_url=queue["QueueUrl"],
        jwt_signing_secret_arn=arn,
    )


async def _api_key(gateway: Gateway) -> str:
    tenant_id = f"t_{uuid.uuid4().hex[:12]}"
    await accounts.create_tenant(gateway.engine, tenant_id=tenant_id, name="Traced tenant")
    new = generate_key()
    await accounts.insert_api_key(
        gateway.engine,
        {
            "id": new.key_id,
            "tenant_id": tenant_id,
            "key_hash": new.key_hash,
            "prefix": new.prefix,
            "role": "user",
            "name": "tracing",
        },
    )
    return new.plaintext


async def _accept(settings: Settings, prompt: str) -> str:
    async with gateway_client(settings) as (client, gateway):
        headers = {"Authorization": f"Bearer {await _api_key(gateway)}"}
        response = await client.post(
            "/api/inference",
            json={"prompt": prompt, "model": "local-echo"},
            headers=headers | {"traceparent": CLIENT_TRACEPARENT},
        )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _receive(queue_url: str) -> dict[str, Any]:
    messages = boto3.client("sqs").receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["traceparent"], WaitTimeSeconds=0
    )["Messages"]
    assert len(messages) == 1
    return dict(messages[0])


def _trace_id(value: int) -> str:
    return f"{value:032x}"


async def test_one_trace_runs_from_the_request_to_the_provider_call(
    spans: SpanRecorder, settings: Settings
) -> None:
    prompt = f"confidential prompt {uuid.uuid4().hex}"
    request_id = await _accept(settings, prompt)
    server = spans.named("POST /api/inference")
    assert server.kind is SpanKind.SERVER
    assert _trace_id(server.context.trace_id) == CLIENT_TRACE_ID
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/inference"
    assert server.attributes["http.response.status_code"] == 202
    insert, send = spans.named("db.insert"), spans.named("queue.send")
    for child in (insert, send):
        assert child.parent is not None and child.parent.span_id == server.context.span_id
        assert child.attributes is not None
        assert child.attributes["agatha.request_id"] == request_id
    assert send.kind is SpanKind.PRODUCER

    message = _receive(settings.queue_url or "")
    body = json.loads(message["Body"])
    assert set(body) == {"v", "id", "tenant"} and body["id"] == request_id
    traceparent = message["MessageAttributes"]["traceparent"]["StringValue"]
    assert traceparent.split("-")[1:3] == [CLIENT_TRACE_ID, f"{send.context.span_id:016x}"]

    runtime = await build_runtime(settings, WorkerSettings())
    try:
        result = await runtime.core.process(job_from_sqs(message))
    finally:
        await runtime.aclose()
    assert result.outcome is Outcome.COMPLETED
    job, call = spans.named("job"), spans.named("provider.complete")
    assert job.kind is SpanKind.CONSUMER
    assert _trace_id(job.context.trace_id) == CLIENT_TRACE_ID
    assert job.parent is not None and job.parent.span_id == send.context.span_id
    assert call.parent is not None and call.parent.span_id == job.context.span_id
    assert job.attributes is not None
    assert job.attributes["agatha.request_id"] == request_id
    assert job.attributes["agatha.model"] == "local-echo"
    assert job.attributes["agatha.provider"] == "local"
    assert job.attributes["agatha.outcome"] == "completed"
    _assert_no_text(spans.finished(), prompt)


def _assert_no_text(finished: list[ReadableSpan], text: str) -> None:
    assert finished
    for recorded in finished:
        dumped = recorded.to_json()
        assert text not in dumped, recorded.name
        assert "confidential" not in dumped, recorded.name
