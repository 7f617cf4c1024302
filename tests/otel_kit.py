"""For tests/tracing: the SDK set up once per process as the global providers, in memory.

OpenTelemetry's global providers can be set once only; every test here reads the spans it
made (the exporter is cleared before each) and the measurements of its own model name.
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_EXPORTER = InMemorySpanExporter()
_READER = InMemoryMetricReader()
_installed = False


def _install() -> None:
    """Set the providers, at the first test that wants them (not when the module is
    collected: the rest of the suite runs without an SDK, as most users' programs do)."""
    global _installed
    if _installed:
        return
    _installed = True
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))


class Recorded:
    """The spans finished during a test, and the measurements made so far."""

    def spans(self) -> list[ReadableSpan]:
        return list(_EXPORTER.get_finished_spans())

    def span(self) -> ReadableSpan:
        """The one span of the test (asserts there is exactly one)."""
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def points(self, metric: str, model: str) -> list[Any]:
        """The histogram data points of `metric` for calls that asked for `model`."""
        data = _READER.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name != metric:
                        continue
                    for point in item.data.data_points:
                        if point.attributes.get("gen_ai.request.model") == model:
                            found.append(point)
        return found


def recording(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """For a test module's `recorded` fixture: the SDK installed, no span yet, tracing on and
    content capture off whatever the environment says."""
    _install()
    monkeypatch.delenv("CHAT_IMAGE_TRACING", raising=False)
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    _EXPORTER.clear()
    return Recorded()
