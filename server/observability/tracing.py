"""OpenTelemetry tracing, optional: the ``otel`` extra installs it, ``ACCORD_OTEL_ENABLED`` turns it on.

Spans go to the OTLP endpoint the standard ``OTEL_EXPORTER_OTLP_*`` variables name (service name
from ``OTEL_SERVICE_NAME``, default ``accord``). Each request's span carries Accord's request id.
"""
from __future__ import annotations

import logging
import os

from starlette.types import ASGIApp

from server.observability.request_id import current_request_id

log = logging.getLogger(__name__)


def traced(app: ASGIApp, *, enabled: bool, exporter: object | None = None) -> ASGIApp:
    """``app`` wrapped in OpenTelemetry's ASGI middleware when enabled and installed; else ``app``.

    ``exporter`` replaces the OTLP exporter (tests pass an in-memory one)."""
    if not enabled:
        return app
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.warning("ACCORD_OTEL_ENABLED is set but OpenTelemetry is not installed: pip install 'accord[otel]'. Tracing is off.")
        return app
    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "accord")}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]

    def stamp_request_id(span, scope) -> None:  # type: ignore[no-untyped-def]
        if span is not None and span.is_recording():
            span.set_attribute("accord.request_id", current_request_id.get() or "")

    return OpenTelemetryMiddleware(app, tracer_provider=provider, server_request_hook=stamp_request_id, exclude_spans=["receive", "send"])
