"""`Stream` and `AsyncStream`: a streamed answer as typed chunks, and every way it can fail.

What the bytes mean is decided in `_Reading`, which does no I/O and is shared by both; the
two classes only move bytes and differ in how they wait. Every failure ends in an error from
our tree: a transport failure as `APIConnectionError` / `APITimeoutError` (retried, as a
non-streamed call is, until the first chunk has been handed out, never after), an error event
as `APIError`, data that is not a chunk as `APIResponseValidationError`, a body (or one event,
or one line) over `max_response_bytes` as `ResponseTooLargeError`.

A stream ends at `data: [DONE]`: what follows is read only while it comes at once (so that a
well-formed body's connection is reused), never waited for. Only data counts as the server
making progress: keep-alives of any kind do not hold off the read timeout. `close()` works
from another thread (sync) or task (async), and ends the reader's loop.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar

import httpx

from ._config import DEFAULT_MAX_RESPONSE_BYTES
from ._exceptions import (
    APIResponseValidationError,
    ChatImageError,
    ResponseTooLargeError,
    stream_error,
    transport_error,
)
from ._models.accumulate import ChatCompletionAccumulator
from ._models.chunk import ChatCompletionChunk, chunk_of_completion, parse_chat_completion_chunk
from ._models.completion import ChatCompletion, ResponseShapeError, parse_chat_completion
from ._redact import request_id_of
from ._response import retries_taken
from ._sse import ServerSentEvent, SSEDecoder
from ._transports import deadline as _deadline

__all__ = ["AsyncStream", "Stream"]

_ChunkT = TypeVar("_ChunkT", bound=ChatCompletionChunk)

_DONE: Final = b"[DONE]"
# How much of a body that is neither an event stream nor JSON is kept for the error message.
_KEPT_FOR_ERRORS: Final = 4096
_SNIFF_JSON: Final = frozenset(b"{")
_WHITESPACE: Final = b" \t\r\n"
# After [DONE], what follows is read only while it comes at once (the end of the chunked body,
# usually in the same packet), so that the connection can be used again; past this much time
# or these many bytes the connection is dropped instead. A server that keeps the body open
# (keep-alives after [DONE], or silence) costs this, not the rest of the body.
_DRAIN_SECONDS: Final = 0.1
_DRAIN_BYTES: Final = 64 * 1024
_SECOND_READER: Final = (
    "this stream is being read by another consumer (thread or task): a stream has one "
    "reader; read it in one place and hand its chunks on"
)

Resend = Callable[[httpx.HTTPError, int], httpx.Response | None]
"""Given a failure before the first chunk and the retries taken so far: the answer of a new
attempt (its own retries recorded on it), or None when the failure is final."""
AsyncResend = Callable[[httpx.HTTPError, int], Awaitable[httpx.Response | None]]
Deadline = tuple[float, str]
"""When (time.monotonic()) the first event must have come, and what that deadline is."""


class _Reading:
    """What one response's bytes mean: chunks, the end, or the error that stops them."""

    __slots__ = (
        "_body",
        "_deadline",
        "_decoder",
        "_finished",
        "_last_data",
        "_left",
        "_limit",
        "_mode",
        "_seen",
        "_strict",
        "done",
        "response",
    )

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.response = response
        # The body's decoded bytes still allowed: a stream is bounded as a read answer is,
        # which bounds any one event or line in it too.
        self._limit = limit
        self._left = limit
        self.done = False  # [DONE], or a whole JSON answer, has been read
        content_type = response.headers.get("content-type", "").lower()
        # "sse", "json", or "sniff" until the first bytes tell which.
        self._mode = (
            "sse"
            if "text/event-stream" in content_type
            else "json"
            if "json" in content_type
            else "sniff"
        )
        # Without the event-stream type, an answer with no event in it is not a stream at all.
        self._strict = self._mode != "sse"
        self._decoder = SSEDecoder()
        self._body = bytearray()
        self._seen: set[int] = set()
        self._finished: set[int] = set()
        timeout = response.request.extensions.get("timeout", {}).get("read")
        self._deadline: float | None = timeout
        self._last_data = time.monotonic()

    def limit_to(self, limit: int) -> None:
        """Bound the body to `limit` bytes instead, before any of it is read."""
        self._limit = self._left = limit

    def feed(self, piece: bytes) -> list[ServerSentEvent]:
        """The events `piece` completes, each to be made a chunk (`chunk`) as it is handed
        out: parsing them all first would hold the first one back."""
        self._left -= len(piece)
        if self._left < 0:
            raise ResponseTooLargeError(self.response, self._limit)
        if self._mode == "sniff":
            stripped = piece.lstrip(_WHITESPACE)
            if not stripped:
                self._keep(piece)
                return []
            self._mode = "json" if stripped[0] in _SNIFF_JSON else "sse"
        if self._mode == "json":
            self._body += piece
            return []
        if self._strict:
            self._keep(piece)
        decoder = self._decoder
        events = decoder.feed(piece)
        if decoder.saw_data:
            decoder.saw_data = False
            self._last_data = time.monotonic()
        elif self._deadline is not None and time.monotonic() - self._last_data > self._deadline:
            # Keep-alives (comments, or fields without data) reset httpx's read timeout;
            # they do not reset this one.
            raise httpx.ReadTimeout(
                "no data within the read timeout (only keep-alives)",
                request=self.response.request,
            )
        return events

    def end(self) -> list[ChatCompletionChunk]:
        """At the end of the body: the chunk a JSON answer makes, or why the answer is
        incomplete. A cut-off is an httpx error, so that it is retried like one."""
        if self._mode == "json":
            self.done = True
            return [self._completion_chunk()]
        if self.done or (self._seen and self._seen <= self._finished):
            # Complete: every choice finished, even if the server never sent [DONE].
            self.done = True
            return []
        if self._strict and not self._seen:
            raise APIResponseValidationError(
                self.response,
                "neither an event stream nor a chat completion",
                body=self._body.decode("utf-8", errors="replace"),
            )
        raise httpx.RemoteProtocolError(
            "the answer was cut off: the stream ended before every choice had a finish_reason",
            request=self.response.request,
        )

    def _keep(self, piece: bytes) -> None:
        room = _KEPT_FOR_ERRORS - len(self._body)
        if room > 0:
            self._body += piece[:room]

    def _invalid(self, problem: str, data: bytes) -> APIResponseValidationError:
        return APIResponseValidationError(
            self.response, problem, body=data.decode("utf-8", errors="replace")
        )

    def chunk(self, name: str | None, data: bytes) -> ChatCompletionChunk | None:
        """The chunk an event carries; None for `[DONE]`, after which the stream is done."""
        if data == _DONE:
            self.done = True
            return None
        try:
            decoded = json.loads(data)
        except (ValueError, RecursionError) as exc:
            if name == "error":
                raise self._invalid("error event", data) from None
            raise self._invalid(f"a data line is not JSON ({exc})", data) from None
        error = stream_error(self.response, decoded)
        if error is not None:
            raise error
        if name == "error":
            raise self._invalid("error event", data)
        try:
            chunk = parse_chat_completion_chunk(decoded)
        except ResponseShapeError as exc:
            raise self._invalid(
                f"a data line is not a chat completion chunk: {exc}", data
            ) from None
        for choice in chunk.choices:
            self._seen.add(choice.index)
            if choice.finish_reason is not None:
                self._finished.add(choice.index)
        return chunk

    def _completion_chunk(self) -> ChatCompletionChunk:
        data = bytes(self._body)
        try:
            decoded = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise self._invalid(f"body is not JSON ({exc})", data) from None
        error = stream_error(self.response, decoded)
        if error is not None:
            raise error
        try:
            completion = parse_chat_completion(decoded)
        except ResponseShapeError as exc:
            problem = f"neither an event stream nor a chat completion: {exc}"
            raise self._invalid(problem, data) from None
        return chunk_of_completion(completion)


class _StreamBase(Generic[_ChunkT]):
    """What both streams hold and show: the response, the chunks so far, how it ended."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._limit = DEFAULT_MAX_RESPONSE_BYTES
        # When the call must have its first event (its total_timeout), and what that is.
        self._first_event_deadline: Deadline | None = None
        self._reading = _Reading(response, self._limit)
        self._chunks: list[ChatCompletionChunk] = []
        self._complete = False
        self._closed = False
        # [tracing] Told once when the stream ends: exhausted, closed, left or failed.
        self._on_end: Callable[[_StreamBase[Any], BaseException | None], None] | None = None

    @property
    def response(self) -> httpx.Response:
        """The HTTP response being read (its body is the stream: do not read it yourself)."""
        return self._response

    @property
    def headers(self) -> httpx.Headers:
        return self._response.headers

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def request_id(self) -> str | None:
        """The gateway's `x-request-id` (or `request-id`), for support requests."""
        return request_id_of(self._response)

    @property
    def retries_taken(self) -> int:
        """How many times the request was sent again before this answer came."""
        return retries_taken(self._response)

    def __repr__(self) -> str:
        state = "complete" if self._complete else "closed" if self._closed else "open"
        return f"{type(self).__name__}(chunks={len(self._chunks)}, {state})"

    def _ended(self, exc: BaseException | None) -> None:
        # [tracing] Leaving early (GeneratorExit, close()) is no failure: exc is None then.
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(self, exc)

    def _bound(self, max_response_bytes: int, first_event_deadline: Deadline | None) -> Self:
        """This stream, held to its client's `max_response_bytes` and its call's deadline."""
        self._limit = max_response_bytes
        self._reading.limit_to(max_response_bytes)  # nothing read yet: no need for a new one
        self._first_event_deadline = first_event_deadline
        return self

    def _restart(self, response: httpx.Response) -> None:
        self._response = response
        self._reading = _Reading(response, self._limit)

    def _final(self) -> ChatCompletion:
        if not self._complete:
            raise ChatImageError(
                "the stream was closed before its end: its final completion is unknown"
            )
        accumulator = ChatCompletionAccumulator()
        for chunk in self._chunks:
            accumulator.add(chunk)
        return accumulator.get_final_completion()


def _reads_have_deadlines(response: httpx.Response) -> bool:
    """Whether a sync read of `response` ends by `_deadline`'s deadline: its socket is one of
    the pools this package builds. A caller's own client's read could wait its whole timeout."""
    return isinstance(response.extensions.get("network_stream"), _deadline.DeadlineStream)


def _socket_of(response: httpx.Response) -> socket.socket | None:
    """The socket `response` is read from, when its transport says (httpcore's do)."""
    stream = response.extensions.get("network_stream")
    sock = None if stream is None else stream.get_extra_info("socket")
    return sock if isinstance(sock, socket.socket) else None


def _wake_reader(response: httpx.Response) -> bool:
    """Make a read blocked on `response`'s socket, in another thread, return at once."""
    sock = _socket_of(response)
    if sock is None:
        return False
    # The plain socket's shutdown, also under TLS: the reader sees the end of the connection,
    # and the TLS object it is using is left as it is. Already closed: nothing waits on it.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    return True


class _Watchdog:
    """Cuts a sync read of a caller's own client short at `ends` (its socket is shut down,
    and the connection lost), which nothing else can: its reads have no deadline of ours.
    A thread that sleeps until then, started only for what needs it."""

    __slots__ = ("_cancelled", "_lock", "_timer", "fired")

    def __init__(self, response: httpx.Response, ends: float) -> None:
        self.fired = False
        self._cancelled = False
        self._lock = threading.Lock()

        def fire() -> None:
            with self._lock:  # never after cancel(): the connection may be in use again
                if not self._cancelled:
                    self.fired = _wake_reader(response)

        self._timer = threading.Timer(max(0.0, ends - time.monotonic()), fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            self._timer.cancel()


class Stream(_StreamBase[_ChunkT]):
    """The chunks of a streamed answer: iterate it (once, in one thread), preferably inside
    `with`.

    `create(..., stream=True)` makes it; it is not built by hand. Leaving early (`break`, an
    exception, `close()`) closes the response, which frees its connection; `close()` may come
    from another thread, and ends the reader's loop. The stream ends at `data: [DONE]`.
    `get_final_completion()` reads what is left and returns the whole answer. It has
    `response`, `headers`, `status_code`, `request_id` and `retries_taken`.

    Args:
        response: The HTTP response whose body is the event stream, not yet read.
        resend: How to send the request again when the stream fails before its first
            event; None sends it once.

    Raises:
        APIError: While iterating, an error event from the gateway, with its `message`,
            `type` and `code`, after the chunks before it.
        APIResponseValidationError: While iterating, a line that is not a chunk, or a
            success status that is neither an event stream nor a completion.
        APIConnectionError: While iterating, the connection dropped, or the stream ended
            before every choice finished; `APITimeoutError` when no data came within the
            read timeout (keep-alives do not count), or no first event by `total_timeout`.
        ResponseTooLargeError: While iterating, the body (or one event, or one line) grew
            past the client's `max_response_bytes`.
        ChatImageError: `get_final_completion()` after the stream was left early; a second
            reader while one is reading.
    """

    def __init__(self, response: httpx.Response, *, resend: Resend | None = None) -> None:
        super().__init__(response)
        self._resend = resend
        self._iterator = self._iterate()
        # Held while a chunk is read: a second reader, or a close() from another thread,
        # finds it taken.
        self._reader = threading.Lock()
        self._watchdog: _Watchdog | None = None

    def __iter__(self) -> Iterator[_ChunkT]:
        return self

    def __next__(self) -> _ChunkT:
        if not self._reader.acquire(blocking=False):
            raise ChatImageError(_SECOND_READER)
        try:
            # The chunks are always ChatCompletionChunk; the parameter is for the type checker.
            return next(self._iterator)  # type: ignore[return-value]
        finally:
            self._reader.release()

    def _iterate(self) -> Generator[ChatCompletionChunk, None, None]:
        try:
            while not self._closed:
                reading = self._reading
                try:
                    pieces = self._pieces()
                    for piece in pieces:
                        for name, data in reading.feed(piece):
                            chunk = reading.chunk(name, data)
                            if chunk is None:
                                break
                            self._chunks.append(chunk)
                            if self._watchdog is not None:
                                self._watchdog.cancel()
                                self._watchdog = None
                            yield chunk
                        if reading.done or self._closed:
                            break
                    if self._closed:
                        return
                    if reading.done:
                        self._drain(pieces)
                    chunks = reading.end()
                except httpx.HTTPError as exc:
                    if self._closed:
                        return  # close() from another thread cut the read short
                    response = None
                    if not self._chunks and self._resend is not None:
                        # Nothing handed out yet: this may be retried like any request.
                        self._response.close()
                        response = self._resend(exc, retries_taken(self._response))
                    if response is None:
                        raise transport_error(self._response.request, exc) from exc
                    self._restart(response)
                    continue
                self._chunks.extend(chunks)
                yield from chunks
                self._complete = True
                return
        except GeneratorExit:
            raise
        except BaseException as exc:
            # After close() (from another thread or task) what stops the read is the close.
            self._ended(None if self._closed else exc)
            raise
        finally:
            self._closed = True
            if self._watchdog is not None:
                self._watchdog.cancel()
            self._response.close()
            self._ended(None)

    def _pieces(self) -> Iterator[bytes]:
        """The body as it arrives; until the first chunk, each read ends by the deadline."""
        pieces = self._response.iter_bytes()
        if self._first_event_deadline is None or self._chunks:
            return pieces
        return self._until_first_chunk(pieces, self._first_event_deadline)

    def _until_first_chunk(self, pieces: Iterator[bytes], deadline: Deadline) -> Iterator[bytes]:
        ends, what = deadline
        response = self._response
        # A caller's own client's sockets have no deadline of ours: a timer cuts its read
        # short when the deadline passes (see `_Watchdog`).
        watchdog = None if _reads_have_deadlines(response) else _Watchdog(response, ends)
        self._watchdog = watchdog  # called off as the first chunk is handed out
        try:
            while not self._chunks:
                try:
                    with _deadline.with_deadline(ends, what):  # not held across the yield
                        piece = next(pieces, None)
                except httpx.HTTPError:
                    if watchdog is None or not watchdog.fired:
                        raise
                    piece = b""
                if watchdog is not None and (watchdog.fired or time.monotonic() >= ends):
                    raise httpx.ReadTimeout(_deadline.passed(what), request=response.request)
                if piece is None:
                    return
                yield piece
        finally:
            if watchdog is not None:
                watchdog.cancel()
        yield from pieces

    def _drain(self, pieces: Iterator[bytes]) -> None:
        """Read what follows [DONE] while it comes at once; then the connection is free."""
        response = self._response
        ends = time.monotonic() + _DRAIN_SECONDS
        watchdog = None
        if not _reads_have_deadlines(response):
            if _socket_of(response) is None:
                return  # no way to cut a read short: closing drops the connection instead
            watchdog = _Watchdog(response, ends)
        left = _DRAIN_BYTES
        try:
            with _deadline.with_deadline(ends, "the wait for the end of the body after [DONE]"):
                for piece in pieces:
                    left -= len(piece)
                    if left < 0 or time.monotonic() > ends:
                        return
        except httpx.HTTPError:
            pass  # the answer is complete; only the connection is lost
        finally:
            if watchdog is not None:
                watchdog.cancel()

    def close(self) -> None:
        """Stop reading and close the response; its connection is freed. From another thread
        while a chunk is being read, the reader's loop ends (its read is cut short)."""
        self._closed = True
        if self._reader.acquire(blocking=False):
            try:
                self._iterator.close()
            finally:
                self._reader.release()
            self._response.close()
            self._ended(None)  # [tracing] also when it was never read
        elif not _wake_reader(self._response):
            self._response.close()  # the reader's next read fails, and its loop ends

    def get_final_completion(self) -> ChatCompletion:
        """Read the rest of the stream; the whole answer as a non-streamed call returns it."""
        for _ in self:
            pass
        return self._final()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncStream(_StreamBase[_ChunkT]):
    """`Stream` for asyncio: `async for`, `async with`, `await close()` (from any task)."""

    def __init__(self, response: httpx.Response, *, resend: AsyncResend | None = None) -> None:
        import asyncio

        super().__init__(response)
        self._resend = resend
        self._iterator = self._iterate()
        self._current_task = asyncio.current_task
        self._cancelled_error = asyncio.CancelledError
        # The task reading a chunk now, if any; and whether close() cancelled it.
        self._reader: asyncio.Task[Any] | None = None
        self._cancelled_by_close = False

    def __aiter__(self) -> AsyncIterator[_ChunkT]:
        return self

    async def __anext__(self) -> _ChunkT:
        if self._reader is not None:
            raise ChatImageError(_SECOND_READER)
        task = self._reader = self._current_task()
        try:
            return await self._iterator.__anext__()  # type: ignore[return-value]
        except BaseException as exc:
            # close() from another task cancelled this read: the reader sees the end.
            if (
                self._cancelled_by_close
                and isinstance(exc, self._cancelled_error)
                and task is not None
                and task.uncancel() == 0
            ):
                raise StopAsyncIteration from None
            raise
        finally:
            self._reader = None
            self._cancelled_by_close = False

    async def _iterate(self) -> AsyncGenerator[ChatCompletionChunk, None]:
        try:
            while not self._closed:
                reading = self._reading
                try:
                    pieces = self._pieces()
                    async for piece in pieces:
                        for name, data in reading.feed(piece):
                            chunk = reading.chunk(name, data)
                            if chunk is None:
                                break
                            self._chunks.append(chunk)
                            yield chunk
                        if reading.done or self._closed:
                            break
                    if self._closed:
                        return
                    if reading.done:
                        await self._drain(pieces)
                    chunks = reading.end()
                except httpx.HTTPError as exc:
                    response = None
                    if not self._chunks and self._resend is not None:
                        await self._response.aclose()
                        response = await self._resend(exc, retries_taken(self._response))
                    if response is None:
                        raise transport_error(self._response.request, exc) from exc
                    self._restart(response)
                    continue
                self._chunks.extend(chunks)
                for chunk in chunks:
                    yield chunk
                self._complete = True
                return
        except GeneratorExit:
            raise
        except BaseException as exc:
            # After close() (from another thread or task) what stops the read is the close.
            self._ended(None if self._closed else exc)
            raise
        finally:
            self._closed = True
            await self._response.aclose()
            self._ended(None)

    def _pieces(self) -> AsyncIterator[bytes]:
        """`Stream._pieces`: until the first chunk, each read ends by the deadline."""
        pieces = self._response.aiter_bytes()
        if self._first_event_deadline is None or self._chunks:
            return pieces
        return self._until_first_chunk(pieces, self._first_event_deadline)

    async def _until_first_chunk(
        self, pieces: AsyncIterator[bytes], deadline: Deadline
    ) -> AsyncIterator[bytes]:
        import asyncio

        ends, what = deadline
        while not self._chunks:
            # Around each read, never across the yield: it would cancel the reader's task
            # wherever it is when the deadline passes.
            timer = asyncio.timeout(ends - time.monotonic())
            try:
                async with timer:
                    piece = await anext(pieces)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if not timer.expired():
                    raise
                raise httpx.ReadTimeout(
                    _deadline.passed(what), request=self._response.request
                ) from None
            yield piece
        async for piece in pieces:
            yield piece

    async def _drain(self, pieces: AsyncIterator[bytes]) -> None:
        """`Stream._drain`: what follows [DONE], while it comes at once."""
        import asyncio

        left = _DRAIN_BYTES
        try:
            async with asyncio.timeout(_DRAIN_SECONDS):
                async for piece in pieces:
                    left -= len(piece)
                    if left < 0:
                        return
        except (TimeoutError, httpx.HTTPError):
            pass  # the answer is complete; only the connection is lost

    async def close(self) -> None:
        """Stop reading and close the response; its connection is freed. From another task
        while a chunk is being read, that read ends and the reader's loop with it."""
        self._closed = True
        reader = self._reader
        if reader is not None and reader is not self._current_task():
            # Its read is cancelled; it closes the response as its loop ends.
            self._cancelled_by_close = True
            reader.cancel()
            return
        await self._iterator.aclose()
        await self._response.aclose()
        self._ended(None)

    async def get_final_completion(self) -> ChatCompletion:
        """Read the rest of the stream; the whole answer as a non-streamed call returns it."""
        async for _ in self:
            pass
        return self._final()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
