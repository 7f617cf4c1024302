"""OpenTelemetry GenAI spans and metrics emitted by the client itself (the `otel` extra).

This module imports nothing of OpenTelemetry: `tracing_for` loads `_otel` only when tracing is
on and `opentelemetry-api` is installed, and otherwise hands out `UNTRACED`, whose calls do
nothing. The send path calls the same three methods either way:

    with client._tracing.call(params, stream) as trace:
        call = client._call(..., trace.params)
        return trace.answered(response, completion)  # or trace.raw(...), trace.stream(...)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .names import DEFAULT_PROVIDER, TRACING_ENV

if TYPE_CHECKING:
    import httpx

    from .._models.completion import ChatCompletion
    from .._response import RawResponse
    from .._streaming import _StreamBase
    from ..batch._models import Progress

__all__ = [
    "UNTRACED",
    "BatchTrace",
    "CallTrace",
    "ParseTrace",
    "Tracing",
    "tracing_for",
    "tracing_of",
]

_StreamT = TypeVar("_StreamT", bound="_StreamBase[Any]")
_T = TypeVar("_T")
_OFF = frozenset({"0", "false", "no", "off"})


class CallTrace(Protocol):
    """One call's span, from `create()` until its answer is read, its stream ends, or it fails."""

    params: Mapping[str, Any]
    """`create()`'s arguments, with the `traceparent` header added when the span has one."""

    def __enter__(self) -> CallTrace: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def answered(self, response: httpx.Response, completion: ChatCompletion) -> ChatCompletion: ...
    def raw(self, raw: RawResponse) -> RawResponse: ...
    def stream(self, stream: _StreamT) -> _StreamT: ...


class Tracing(Protocol):
    """A client's telemetry: `call()` opens one call's span, `batch()` a batch run's."""

    def call(self, params: Mapping[str, Any], stream: bool) -> CallTrace: ...
    def batch(self, progress: Progress, concurrency: int) -> BatchTrace: ...
    def parse(self, model: object, mode: object) -> ParseTrace: ...


class ParseTrace(Protocol):
    """A `parse()` call's INTERNAL span, current while it runs so that each request it sends
    (a re-ask, a step down to another mode) is its child.

        with client._tracing.parse(params["model"], mode) as trace:
            ...
            return trace.parsed(result)  # reads result.mode and result.attempts
    """

    def __enter__(self) -> ParseTrace: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def parsed(self, result: _T) -> _T: ...


class _UntracedParse:
    __slots__ = ()

    def __enter__(self) -> _UntracedParse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def parsed(self, result: _T) -> _T:
        return result


_UNTRACED_PARSE = _UntracedParse()


class BatchTrace(Protocol):
    """A batch run's INTERNAL span, current while it runs so that each item's call is its
    child; its counts are read from `progress` when it ends."""

    interrupted: bool

    def __enter__(self) -> BatchTrace: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _UntracedBatch:
    __slots__ = ("interrupted",)

    def __init__(self) -> None:
        self.interrupted = False

    def __enter__(self) -> _UntracedBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class _Untraced:
    """A call with tracing off (or without the extra): every step passes through."""

    __slots__ = ("params",)

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params

    def __enter__(self) -> _Untraced:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def answered(self, response: httpx.Response, completion: ChatCompletion) -> ChatCompletion:
        return completion

    def raw(self, raw: RawResponse) -> RawResponse:
        return raw

    def stream(self, stream: _StreamT) -> _StreamT:
        return stream


class _NoTracing:
    __slots__ = ()

    def call(self, params: Mapping[str, Any], stream: bool) -> CallTrace:
        return _Untraced(params)

    def batch(self, progress: Progress, concurrency: int) -> BatchTrace:
        return _UntracedBatch()

    def parse(self, model: object, mode: object) -> ParseTrace:
        return _UNTRACED_PARSE

    def __repr__(self) -> str:
        return "UNTRACED"


UNTRACED: Tracing = _NoTracing()
"""Tracing off: no span, no metric, nothing of OpenTelemetry imported."""

# Whether `opentelemetry-api` could be imported, tried once: a failed import is not cached by
# Python, and trying again for each client would search sys.path each time.
_api_missing: bool | None = None


def tracing_of(client: object) -> Tracing:
    """A client's telemetry, for code that holds the client as `object` (`parse()`)."""
    tracing: Tracing = getattr(client, "_tracing", UNTRACED)
    return tracing


def tracing_enabled(tracing: bool | None, environ: Mapping[str, str] | None = None) -> bool:
    """The client's `tracing` argument, else `CHAT_IMAGE_TRACING` (on unless 0/false/no/off)."""
    if tracing is not None:
        from .._validation import check_bool

        return check_bool("tracing", tracing, optional=True)
    env = os.environ if environ is None else environ
    return env.get(TRACING_ENV, "").strip().lower() not in _OFF


def tracing_for(tracing: bool | None, provider_name: str | None, base_url: str) -> Tracing:
    """A client's telemetry: `UNTRACED` when turned off or without the `otel` extra."""
    global _api_missing
    if provider_name is not None:
        from .._validation import check_nonempty_str

        check_nonempty_str("gen_ai_provider", provider_name)
    if not tracing_enabled(tracing):
        return UNTRACED
    try:
        if _api_missing:
            raise ImportError(name="opentelemetry")
        from . import _otel
    except ImportError as exc:
        if not (exc.name or "").startswith("opentelemetry"):
            raise  # a bug of ours, not a missing extra
        _api_missing = True
        if tracing:  # asked for by name, not merely left on: say what is missing
            from .._exceptions import MissingExtraError

            raise MissingExtraError("tracing=True", "otel", "opentelemetry-api") from None
        return UNTRACED
    _api_missing = False
    return _otel.OtelTracing(provider_name or DEFAULT_PROVIDER, base_url)
