"""OpenTelemetry traces of the gateway and the worker; off unless an OTLP endpoint is set.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, a process start-up installs one SDK
TracerProvider (service name from ``OTEL_SERVICE_NAME``, batch export over OTLP gRPC,
or OTLP/HTTP when ``OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf``). Without it the global
tracer stays OpenTelemetry's no-op and every helper here returns at once.

Spans: FastAPI's native telemetry opens one server span per HTTP request once a provider
is installed (continuing a W3C ``traceparent`` header, named by the route template); the
accept path adds ``db.insert`` and ``queue.send``; the job
message carries the ``queue.send`` context in the SQS message attribute ``traceparent``
(the body contract stays ``{"v", "id", "tenant"}``) and the worker's ``job`` span
continues it, with a ``provider.complete`` child. Spans carry ids, model, provider,
routes and status codes only: never prompts, responses, headers or exception messages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, ProxyTracerProvider, Span, SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

TRACER_NAME = "agatha"
TRACEPARENT = "traceparent"
GATEWAY_SERVICE = "agatha-gateway"
WORKER_SERVICE = "agatha-worker"
HTTP_PROTOBUF = "http/protobuf"
# Bounded so a stuck collector cannot hold a Lambda invocation or a shutdown for long.
FLUSH_TIMEOUT_MILLIS = 2_000

_W3C = TraceContextTextMapPropagator()


def build_provider(
    *,
    default_service: str,
    environ: Mapping[str, str],
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """The provider ``environ`` asks for (None when tracing is off); installs nothing.

    ``exporter`` replaces the OTLP exporter (tests pass an in-memory one) and turns
    tracing on by itself.
    """
    endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    disabled = environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    if exporter is None and (disabled or not endpoint):
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {SERVICE_NAME: environ.get("OTEL_SERVICE_NAME", "").strip() or default_service}
    if environ.get("AGATHA_ENV"):
        attributes["deployment.environment"] = environ["AGATHA_ENV"]
    provider = TracerProvider(resource=Resource.create(attributes))
    if exporter is None:
        exporter = otlp_exporter(endpoint, protocol=environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", ""))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def otlp_exporter(endpoint: str, *, protocol: str) -> SpanExporter:
    """OTLP gRPC exporter, or OTLP/HTTP for ``http/protobuf`` (the Datadog Lambda extension)."""
    if protocol.strip().lower() == HTTP_PROTOBUF:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpExporter,
        )

        # An explicit endpoint is used as-is: the signal path must be appended here.
        return HttpExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcExporter,
    )

    return GrpcExporter(endpoint=endpoint)


def configure_tracing(
    *,
    default_service: str,
    environ: Mapping[str, str] | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """Install the process's provider at start-up; None when off or already installed."""
    if tracing_enabled():
        return None
    provider = build_provider(
        default_service=default_service,
        environ=os.environ if environ is None else environ,
        exporter=exporter,
    )
    if provider is not None:
        trace.set_tracer_provider(provider)
    return provider


def shutdown_tracing(provider: TracerProvider | None) -> None:
    """Export what is buffered and stop the provider ``configure_tracing`` returned."""
    if provider is not None:
        provider.force_flush(FLUSH_TIMEOUT_MILLIS)
        provider.shutdown()


def flush_tracing() -> None:
    """Export buffered spans now (end of a Lambda invocation, before the freeze)."""
    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if force_flush is not None:
        force_flush(FLUSH_TIMEOUT_MILLIS)


def tracing_enabled() -> bool:
    """True once a real provider is installed (the no-op proxy means off)."""
    return not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, str | int] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    context: Context | None = None,
) -> Iterator[Span]:
    """A current span; errors are marked with their type only (messages may hold user text)."""
    if not tracing_enabled():
        yield INVALID_SPAN
        return
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(
        name,
        context=context,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            mark_error(current, type(exc).__name__)
            raise


def mark_error(current: Span, error_type: str) -> None:
    """Status ERROR with the error's type, never its message."""
    current.set_attribute("error.type", error_type)
    current.set_status(StatusCode.ERROR, error_type)


def set_attributes(**attributes: str | int | None) -> None:
    """Add attributes (None skipped) to the current span; nothing when tracing is off."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes({f"agatha.{k}": v for k, v in attributes.items() if v is not None})


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, for a queue message attribute."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from_traceparent(traceparent: str | None) -> Context | None:
    """The remote parent a ``traceparent`` names (None when absent or malformed)."""
    if not traceparent:
        return None
    context = _W3C.extract({TRACEPARENT: traceparent})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


@contextmanager
def job_span(traceparent: str | None, *, message_id: str) -> Iterator[Span]:
    """The worker's span for one delivery, continuing the gateway's trace when known."""
    if not tracing_enabled():
        yield INVALID_SPAN
        return
    attributes = {"messaging.system": "aws_sqs", "messaging.message.id": message_id}
    context = context_from_traceparent(traceparent)
    with span("job", attributes, kind=SpanKind.CONSUMER, context=context) as current:
        yield current
