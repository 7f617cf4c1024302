"""`Stream` and `AsyncStream`: a streamed answer as typed chunks, and every way it can fail.

What the bytes mean is decided in `_Reading`, which does no I/O and is shared by both; the
two classes only move bytes and differ in how they wait. Every failure ends in an error from
our tree: a transport failure as `APIConnectionError` / `APITimeoutError` (retried, as a
non-streamed call is, until the first chunk has been handed out, never after), an error event
as `APIError`, data that is not a chunk as `APIResponseValidationError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import Final, Generic, Self, TypeVar

import httpx

from ._exceptions import (
    APIResponseValidationError,
    ChatImageError,
    stream_error,
    transport_error,
)
from ._models.accumulate import ChatCompletionAccumulator
from ._models.chunk import ChatCompletionChunk, chunk_of_completion, parse_chat_completion_chunk
from ._models.completion import ChatCompletion, ResponseShapeError, parse_chat_completion
from ._redact import request_id_of
from ._response import retries_taken
from ._sse import ServerSentEvent, SSEDecoder

__all__ = ["AsyncStream", "Stream"]

_ChunkT = TypeVar("_ChunkT", bound=ChatCompletionChunk)

_DONE: Final = b"[DONE]"
# How much of a body that is neither an event stream nor JSON is kept for the error message.
_KEPT_FOR_ERRORS: Final = 4096
_SNIFF_JSON: Final = frozenset(b"{")
_WHITESPACE: Final = b" \t\r\n"

Resend = Callable[[httpx.HTTPError, int], httpx.Response | None]
"""Given a failure before the first chunk and the retries taken so far: the answer of a new
attempt (its own retries recorded on it), or None when the failure is final."""
AsyncResend = Callable[[httpx.HTTPError, int], Awaitable[httpx.Response | None]]


class _Reading:
    """What one response's bytes mean: chunks, the end, or the error that stops them."""

    __slots__ = (
        "_body",
        "_deadline",
        "_decoder",
        "_finished",
        "_last_data",
        "_mode",
        "_seen",
        "_strict",
        "done",
        "response",
    )

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
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

    def feed(self, piece: bytes) -> list[ServerSentEvent]:
        """The events `piece` completes, each to be made a chunk (`chunk`) as it is handed
        out: parsing them all first would hold the first one back."""
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
        if decoder.saw_field:
            decoder.saw_field = False
            self._last_data = time.monotonic()
        elif self._deadline is not None and time.monotonic() - self._last_data > self._deadline:
            # Keep-alive comments reset httpx's read timeout; they do not reset this one.
            raise httpx.ReadTimeout(
                "no data within the read timeout (only keep-alive comments)",
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
        self._reading = _Reading(response)
        self._chunks: list[ChatCompletionChunk] = []
        self._complete = False
        self._closed = False

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

    def _restart(self, response: httpx.Response) -> None:
        self._response = response
        self._reading = _Reading(response)

    def _final(self) -> ChatCompletion:
        if not self._complete:
            raise ChatImageError(
                "the stream was closed before its end: its final completion is unknown"
            )
        accumulator = ChatCompletionAccumulator()
        for chunk in self._chunks:
            accumulator.add(chunk)
        return accumulator.get_final_completion()


class Stream(_StreamBase[_ChunkT]):
    """The chunks of a streamed answer: iterate it (once), preferably inside `with`.

    `create(..., stream=True)` makes it; it is not built by hand. Leaving early (`break`, an
    exception, `close()`) closes the response, which frees its connection.
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
            before every choice finished; `APITimeoutError` when no event came within the
            read timeout.
        ChatImageError: `get_final_completion()` after the stream was left early.
    """

    def __init__(self, response: httpx.Response, *, resend: Resend | None = None) -> None:
        super().__init__(response)
        self._resend = resend
        self._iterator = self._iterate()

    def __iter__(self) -> Iterator[_ChunkT]:
        return self

    def __next__(self) -> _ChunkT:
        # The chunks are always ChatCompletionChunk; the parameter is for the type checker.
        return next(self._iterator)  # type: ignore[return-value]

    def _iterate(self) -> Generator[ChatCompletionChunk, None, None]:
        try:
            while True:
                reading = self._reading
                try:
                    for piece in self._response.iter_bytes():
                        if reading.done:
                            continue  # read to the end, so the connection can be used again
                        for name, data in reading.feed(piece):
                            chunk = reading.chunk(name, data)
                            if chunk is None:
                                break
                            self._chunks.append(chunk)
                            yield chunk
                    chunks = reading.end()
                except httpx.HTTPError as exc:
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
        finally:
            self._closed = True
            self._response.close()

    def close(self) -> None:
        """Stop reading and close the response; its connection is freed."""
        self._iterator.close()
        self._closed = True
        self._response.close()

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
    """`Stream` for asyncio: `async for`, `async with`, `await close()`."""

    def __init__(self, response: httpx.Response, *, resend: AsyncResend | None = None) -> None:
        super().__init__(response)
        self._resend = resend
        self._iterator = self._iterate()

    def __aiter__(self) -> AsyncIterator[_ChunkT]:
        return self

    async def __anext__(self) -> _ChunkT:
        return await self._iterator.__anext__()  # type: ignore[return-value]

    async def _iterate(self) -> AsyncGenerator[ChatCompletionChunk, None]:
        try:
            while True:
                reading = self._reading
                try:
                    async for piece in self._response.aiter_bytes():
                        if reading.done:
                            continue  # read to the end, so the connection can be used again
                        for name, data in reading.feed(piece):
                            chunk = reading.chunk(name, data)
                            if chunk is None:
                                break
                            self._chunks.append(chunk)
                            yield chunk
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
        finally:
            self._closed = True
            await self._response.aclose()

    async def close(self) -> None:
        """Stop reading and close the response; its connection is freed."""
        await self._iterator.aclose()
        self._closed = True
        await self._response.aclose()

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
