"""The client's spans and metrics through OpenTelemetry's API (the `otel` extra).

One CLIENT span a call, named `chat {model}`, from `create()` until the answer is read, the
stream ends (exhausted, closed or left: leaving is not an error), or the call fails; every
retry and a stream's re-sends are inside it. Without an SDK the API hands out non-recording
spans: then nothing is computed beyond starting and ending one, and no header is added.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Mapping
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import SpanKind, Status, StatusCode

from .._compat import otel_meter_provider_reader
from .._exceptions import APIStatusError
from .._response import retries_taken
from .._version import __version__
from . import names

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

    from .._models.completion import ChatCompletion
    from .._models.messages import Message
    from .._response import RawResponse
    from .._streaming import _StreamBase
    from ..batch._models import Progress

__all__ = ["OtelTracing"]

_StreamT = TypeVar("_StreamT", bound="_StreamBase[Any]")
_T = TypeVar("_T")

_TRACER = trace.get_tracer(names.SCOPE, __version__)
_METER = metrics.get_meter(names.SCOPE, __version__)
_DURATION = _METER.create_histogram(
    names.OPERATION_DURATION,
    unit="s",
    description="GenAI operation duration",
    explicit_bucket_boundaries_advisory=names.DURATION_BUCKETS,
)
_TOKENS = _METER.create_histogram(
    names.TOKEN_USAGE,
    unit="{token}",
    description="Measures number of input and output tokens used",
    explicit_bucket_boundaries_advisory=names.TOKEN_BUCKETS,
)
# Request options recorded when given, and the attribute each goes to.
_NUMBER_OPTIONS = (
    ("max_tokens", names.REQUEST_MAX_TOKENS),
    ("temperature", names.REQUEST_TEMPERATURE),
    ("top_p", names.REQUEST_TOP_P),
    ("seed", names.REQUEST_SEED),
    ("frequency_penalty", names.REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", names.REQUEST_PRESENCE_PENALTY),
)


_meter_provider = otel_meter_provider_reader()


def _metrics_on() -> bool:
    """Whether an SDK's meter provider is set: without one, nothing is measured, and a token
    count read only for metrics is not worth a second parse of the answer."""
    provider = _meter_provider()
    return provider is not None and not isinstance(provider, NoOpMeterProvider)


def _capture_content() -> bool:
    import os

    return os.environ.get(names.CAPTURE_CONTENT_ENV, "").strip().lower() == "true"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def error_type(exc: BaseException) -> str:
    """`error.type`: the status code of an answer that was an error, else the exception's name."""
    if isinstance(exc, APIStatusError):
        return str(exc.status_code)
    return type(exc).__name__


class OtelTracing:
    """A client's telemetry: the provider name and the server it calls, fixed per client."""

    __slots__ = ("_base", "capture_content")

    def __init__(self, provider_name: str, base_url: str) -> None:
        url = httpx.URL(base_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        # What every span and every measurement of this client carries.
        self._base: dict[str, AttributeValue] = {
            names.OPERATION_NAME: names.OPERATION_CHAT,
            names.PROVIDER_NAME: provider_name,
            names.SERVER_ADDRESS: url.host,
            names.SERVER_PORT: port,
        }
        # Read when the client is made, as the conventions' instrumentations read it.
        self.capture_content = _capture_content()

    def call(self, params: Mapping[str, Any], stream: bool) -> _Trace:
        return _Trace(self, params, stream)

    def batch(self, progress: Progress, concurrency: int) -> _BatchTrace:
        return _BatchTrace(progress, concurrency)

    def parse(self, model: object, mode: object) -> _ParseTrace:
        return _ParseTrace(self, model, mode)

    def __repr__(self) -> str:
        return f"OtelTracing(provider={self._base[names.PROVIDER_NAME]!r})"


class _Trace:
    """One call's span and measurements.

    With no SDK (a non-recording, invalid span and no meter provider) this is a span started
    and ended, and nothing else: no attribute is gathered, no context attached, no header.
    """

    __slots__ = (
        "_attrs",
        "_completion",
        "_ended",
        "_handed",
        "_measured",
        "_recording",
        "_span",
        "_started",
        "_token",
        "_tracing",
        "params",
    )

    def __init__(self, tracing: OtelTracing, params: Mapping[str, Any], stream: bool) -> None:
        self._tracing = tracing
        model = params.get("model")
        model = model if isinstance(model, str) and model else None
        self._started = time.perf_counter()
        span = _TRACER.start_span(
            f"{names.OPERATION_CHAT} {model}" if model else names.OPERATION_CHAT,
            kind=SpanKind.CLIENT,
        )
        self._span = span
        self._recording = recording = span.is_recording()
        self._measured = recording or _metrics_on()
        self._completion: ChatCompletion | None = None
        self._ended = False
        self._handed = False
        self._token: Token[otel_context.Context] | None = None
        # What the duration is measured with (the conventions' subset of the span's).
        self._attrs: dict[str, AttributeValue] = {}
        if self._measured:
            self._attrs.update(tracing._base)
            if model is not None:
                self._attrs[names.REQUEST_MODEL] = model
        if recording:
            params = self._describe_request(params, stream)
        if span.get_span_context().is_valid:
            params = _with_trace_headers(params, trace.set_span_in_context(span))
        self.params = params

    def _describe_request(self, params: Mapping[str, Any], stream: bool) -> Mapping[str, Any]:
        """The request's attributes on the span; `params` with its messages made a list if
        they were a one-pass iterable (they are read here and again when the call is built)."""
        attributes = dict(self._attrs)
        for option, name in _NUMBER_OPTIONS:
            value = params.get(option)
            if _number(value):
                attributes[name] = value
        n = params.get("n")
        if _number(n) and n != 1:
            attributes[names.REQUEST_CHOICE_COUNT] = n
        stop = params.get("stop")
        if isinstance(stop, str):
            attributes[names.REQUEST_STOP_SEQUENCES] = [stop]
        elif isinstance(stop, list | tuple) and all(isinstance(s, str) for s in stop):
            attributes[names.REQUEST_STOP_SEQUENCES] = list(stop)
        attributes[names.STREAM] = stream
        messages = params.get("messages")
        if isinstance(messages, Iterable) and not isinstance(
            messages, list | tuple | str | bytes | Mapping
        ):
            messages = list(messages)
            params = {**params, "messages": messages}
        parsed = _parsed(messages)
        if parsed is not None:
            from .content import image_stats, input_messages

            count, size = image_stats(parsed)
            attributes[names.REQUEST_IMAGE_COUNT] = count
            attributes[names.REQUEST_IMAGE_BYTES] = size
            if self._tracing.capture_content:
                attributes[names.INPUT_MESSAGES] = _json(input_messages(parsed))
        self._span.set_attributes(attributes)
        return params

    def __enter__(self) -> _Trace:
        # Current while the call is sent: an HTTP instrumentation's spans nest under it. An
        # invalid span (no SDK) has nothing to pass on.
        if self._span.get_span_context().is_valid:
            self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
        if exc is not None:
            self._fail(exc)
        elif self._handed:
            return  # the stream ends the span
        self._end()

    def answered(self, response: httpx.Response, completion: ChatCompletion) -> ChatCompletion:
        """A whole answer, read and parsed."""
        if self._measured:
            self._completion = completion
            self._retries(retries_taken(response))
        return completion

    def raw(self, raw: RawResponse) -> RawResponse:
        """An answer handed on unparsed: parsed here only for a span or metrics that record."""
        if self._measured:
            # Not a completion: the caller's own parse() will say so, not this one.
            with contextlib.suppress(Exception):
                self._completion = raw.parse()
        self._retries(raw.retries_taken)
        return raw

    def stream(self, stream: _StreamT) -> _StreamT:
        """A stream: the span ends when it does."""
        self._handed = True
        stream._on_end = self._stream_ended
        return stream

    def _stream_ended(self, stream: _StreamBase[Any], exc: BaseException | None) -> None:
        if exc is not None:
            self._fail(exc)
        elif self._measured:
            from .._models.accumulate import ChatCompletionAccumulator

            accumulator = ChatCompletionAccumulator()
            for chunk in stream._chunks:
                accumulator.add(chunk)
            self._completion = accumulator.get_final_completion()
            if self._recording:
                self._span.set_attribute(names.STREAM_COMPLETE, stream._complete)
        if self._recording:
            self._retries(stream.retries_taken)
        self._end()

    def _retries(self, count: int) -> None:
        if self._recording:
            self._span.set_attribute(names.RETRIES_TAKEN, count)

    def _fail(self, exc: BaseException) -> None:
        if not self._measured:
            return
        kind = error_type(exc)
        self._attrs[names.ERROR_TYPE] = kind
        if isinstance(exc, APIStatusError):
            self._retries(retries_taken(exc.response))
        if self._recording:
            span = self._span
            span.set_attribute(names.ERROR_TYPE, kind)
            # The name only: an error's message may quote what the gateway echoed back.
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        if not self._measured:
            self._span.end()
            return
        completion = self._completion
        attrs = self._attrs
        if completion is not None:
            self._describe_answer(completion)
            if completion.model:
                attrs[names.RESPONSE_MODEL] = completion.model
        _DURATION.record(time.perf_counter() - self._started, attrs)
        usage = completion.usage if completion is not None else None
        if usage is not None:
            for count, kind in (
                (usage.prompt_tokens, names.TOKEN_TYPE_INPUT),
                (usage.completion_tokens, names.TOKEN_TYPE_OUTPUT),
            ):
                if count is not None:
                    _TOKENS.record(count, {**attrs, names.TOKEN_TYPE: kind})
        self._span.end()

    def _describe_answer(self, completion: ChatCompletion) -> None:
        if not self._recording:
            return
        attributes: dict[str, AttributeValue] = {}
        if completion.id:
            attributes[names.RESPONSE_ID] = completion.id
        if completion.model:
            attributes[names.RESPONSE_MODEL] = completion.model
        reasons = [c.finish_reason for c in completion.choices if c.finish_reason is not None]
        if reasons:
            attributes[names.RESPONSE_FINISH_REASONS] = reasons
        usage = completion.usage
        if usage is not None:
            if usage.prompt_tokens is not None:
                attributes[names.USAGE_INPUT_TOKENS] = usage.prompt_tokens
            if usage.completion_tokens is not None:
                attributes[names.USAGE_OUTPUT_TOKENS] = usage.completion_tokens
        if self._tracing.capture_content:
            from .content import output_messages

            attributes[names.OUTPUT_MESSAGES] = _json(output_messages(completion))
        self._span.set_attributes(attributes)


class _BatchTrace:
    """A batch run's span: INTERNAL, current while the workers are made and run."""

    __slots__ = ("_progress", "_span", "_token", "interrupted")

    def __init__(self, progress: Progress, concurrency: int) -> None:
        self._progress = progress
        self._span = _TRACER.start_span(
            names.BATCH_SPAN,
            kind=SpanKind.INTERNAL,
            attributes={names.BATCH_CONCURRENCY: concurrency},
        )
        self._token: Token[otel_context.Context] | None = None
        self.interrupted = False

    def __enter__(self) -> _BatchTrace:
        # Tasks copy the context they are made in: the workers' calls become children.
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
        span = self._span
        if span.is_recording():
            progress = self._progress
            total = progress.total if progress.total is not None else progress.done
            span.set_attributes(
                {
                    names.BATCH_TOTAL: total,
                    names.BATCH_OK: progress.ok,
                    names.BATCH_FAILED: progress.failures,
                    names.BATCH_SKIPPED: progress.skipped,
                    names.BATCH_NOT_DONE: max(0, total - progress.done),
                    names.BATCH_INTERRUPTED: self.interrupted,
                }
            )
            if exc is not None:
                span.set_attribute(names.ERROR_TYPE, error_type(exc))
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        span.end()


class _ParseTrace:
    """A `parse()` call's span: INTERNAL, current while its requests are sent."""

    __slots__ = ("_span", "_token")

    def __init__(self, tracing: OtelTracing, model: object, mode: object) -> None:
        name = (
            f"{names.PARSE_SPAN} {model}" if isinstance(model, str) and model else names.PARSE_SPAN
        )
        self._span = span = _TRACER.start_span(name, kind=SpanKind.INTERNAL)
        if span.is_recording():
            base = tracing._base
            span.set_attribute(names.PROVIDER_NAME, base[names.PROVIDER_NAME])
            if isinstance(model, str):
                span.set_attribute(names.REQUEST_MODEL, model)
            span.set_attribute(names.PARSE_MODE_REQUESTED, str(mode))
        self._token: Token[otel_context.Context] | None = None

    def __enter__(self) -> _ParseTrace:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
        span = self._span
        if exc is not None and span.is_recording():
            span.set_attribute(names.ERROR_TYPE, error_type(exc))
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            for name, attribute in (("mode", names.PARSE_MODE), ("attempts", names.PARSE_ATTEMPTS)):
                value = getattr(exc, name, None)
                if isinstance(value, str | int):
                    span.set_attribute(attribute, value)
        span.end()

    def parsed(self, result: _T) -> _T:
        """The parsed answer: the mode that answered and the answers read go on the span."""
        span = self._span
        if span.is_recording():
            mode = getattr(result, "mode", None)
            attempts = getattr(result, "attempts", None)
            if isinstance(mode, str):
                span.set_attribute(names.PARSE_MODE, mode)
            if isinstance(attempts, int):
                span.set_attribute(names.PARSE_ATTEMPTS, attempts)
        return result


def _parsed(messages: object) -> list[Message] | None:
    """The typed messages, or None when they are not valid (the call will refuse them)."""
    from .._exceptions import InvalidInputError
    from .._models.messages import parse_message

    if not isinstance(messages, list | tuple):
        return None
    try:
        return [parse_message(message) for message in messages]
    except (InvalidInputError, TypeError, ValueError):
        return None


def _with_trace_headers(
    params: Mapping[str, Any], context: otel_context.Context
) -> Mapping[str, Any]:
    """`params` with the W3C `traceparent` (and whatever else the global propagator sends)
    among its extra headers, so that a gateway that traces joins the caller's trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    if not carrier:
        return params
    extra = params.get("extra_headers")
    if extra is None:
        return {**params, "extra_headers": carrier}
    if not isinstance(extra, Mapping):
        return params  # refused when the call is built, with the field named
    # The caller's own header of the same name wins: they chose to send it.
    present = {str(name).lower() for name in extra}
    added = {name: value for name, value in carrier.items() if name.lower() not in present}
    return {**params, "extra_headers": {**extra, **added}}


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
