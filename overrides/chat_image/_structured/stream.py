"""`stream(response_format=T)`: the `openai` package's events over a streamed structured answer.

`StreamReading` turns chunks into events with no I/O (written once); `ChatCompletionStream`
and `AsyncChatCompletionStream` send (through the public `create(stream=True)`), and follow
the same `plan` as `parse()`: a format refused before the stream starts falls back, and an
answer that is not a valid `T` is re-asked when `max_reasks` allows it (0 by default here:
events of a second answer would follow the first's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Final, Generic, Literal, Self, TypeAlias, TypeVar

import attrs

from .._exceptions import APIStatusError, ChatImageError
from .._models.accumulate import ChatCompletionAccumulator
from .._models.chunk import ChatCompletionChunk
from .._models.completion import ChatCompletion
from .outcomes import ParsedChatCompletion
from .parse import Plan, check_options, plan
from .partial import PartialJSON, PartialView
from .target import Target, prepare

__all__ = [
    "AsyncChatCompletionStream",
    "AsyncChatCompletionStreamManager",
    "ChatCompletionStream",
    "ChatCompletionStreamEvent",
    "ChatCompletionStreamManager",
    "ChunkEvent",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "StreamReading",
]

_T = TypeVar("_T")


@attrs.frozen
class ChunkEvent:
    """Each chunk as it came."""

    chunk: ChatCompletionChunk
    type: Literal["chunk"] = "chunk"


class ContentDeltaEvent:
    """New content: `.delta`, the content so far (`.snapshot`), and `.parsed`, the complete part
    of the object so far as a dict (None before its JSON begins), decoded when first read:
    a stream read for its deltas alone does not decode it at every chunk."""

    __slots__ = ("_view", "_wrapper_key", "delta", "snapshot")
    type: Final = "content.delta"

    def __init__(
        self, delta: str, snapshot: str, view: PartialView, wrapper_key: str | None = None
    ) -> None:
        self.delta = delta
        self.snapshot = snapshot
        self._view = view
        self._wrapper_key = wrapper_key

    @property
    def parsed(self) -> Any:
        value = self._view.value
        if self._wrapper_key is not None and isinstance(value, dict):
            return value.get(self._wrapper_key)
        return value

    def __repr__(self) -> str:
        return f"ContentDeltaEvent(delta={self.delta!r}, parsed={self.parsed!r})"


@attrs.frozen
class ContentDoneEvent(Generic[_T]):
    """The whole content, and `.parsed`, the `T` it gave."""

    content: str
    parsed: _T | None
    type: Literal["content.done"] = "content.done"


@attrs.frozen
class RefusalDeltaEvent:
    delta: str
    snapshot: str
    type: Literal["refusal.delta"] = "refusal.delta"


@attrs.frozen
class RefusalDoneEvent:
    refusal: str
    type: Literal["refusal.done"] = "refusal.done"


ChatCompletionStreamEvent: TypeAlias = (
    ChunkEvent | ContentDeltaEvent | ContentDoneEvent[Any] | RefusalDeltaEvent | RefusalDoneEvent
)


class StreamReading:
    """One streamed answer's chunks -> events (the first choice's content and refusal)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.partial = PartialJSON()
        self.refusal = ""
        self.chunks: list[ChatCompletionChunk] = []
        self._shown: Any = None

    @property
    def content(self) -> str:
        return self.partial.text

    def feed(self, chunk: ChatCompletionChunk) -> list[ChatCompletionStreamEvent]:
        self.chunks.append(chunk)
        events: list[ChatCompletionStreamEvent] = [ChunkEvent(chunk)]
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta.content:
                self.partial.feed(delta.content)
                events.append(
                    ContentDeltaEvent(
                        delta.content,
                        self.partial.text,
                        self.partial.view(),
                        self.target.wrapper_key,
                    )
                )
            if delta.refusal:
                self.refusal += delta.refusal
                events.append(RefusalDeltaEvent(delta.refusal, self.refusal))
        return events

    def new_items(self, taken: int) -> list[Any]:
        """The list items closed since `taken`, each converted (`list[X]` targets only)."""
        convert = self.target.convert_item
        if convert is None:
            return []
        items = []
        for data in self.partial.items_done[taken:]:
            value, problems = convert(data)
            items.append(None if problems else value)
        return items

    def snapshot(self) -> ChatCompletion:
        accumulator = ChatCompletionAccumulator()
        for chunk in self.chunks:
            accumulator.add(chunk)
        return accumulator.get_final_completion()


def _done_events(parsed: ParsedChatCompletion[Any]) -> list[ChatCompletionStreamEvent]:
    if not parsed.choices:
        return []
    message = parsed.choices[0].message
    if message.refusal:
        return [RefusalDoneEvent(message.refusal)]
    return [ContentDoneEvent(message.content or "", message.parsed)]


def _stream_params(params: Mapping[str, Any]) -> dict[str, Any]:
    given = dict(params)
    # Usage comes on a last chunk only when asked for; total_usage needs it.
    given.setdefault("stream_options", {"include_usage": True})
    return given


class _Base(Generic[_T]):
    def __init__(self, steps: Plan, target: Target) -> None:
        self._steps = steps
        self._target = target
        self._reading = StreamReading(target)
        self._final: ParsedChatCompletion[_T] | None = None
        self._items_taken = 0

    @property
    def current_completion_snapshot(self) -> ChatCompletion:
        """The answer so far, as a completion (built when asked)."""
        return self._reading.snapshot()

    def _no_final(self) -> ChatImageError:
        return ChatImageError("the stream was closed before its end: no final completion")


class ChatCompletionStream(_Base[_T]):
    """The events of a structured stream: iterate it inside `with`."""

    def __init__(
        self, create: Callable[..., Any], steps: Plan, target: Target, first: dict[str, Any]
    ) -> None:
        super().__init__(steps, target)
        self._create = create
        self._request = first
        self._stream: Any = None
        self._events = self._run()

    def _run(self) -> Iterator[ChatCompletionStreamEvent]:
        request = self._request
        while True:
            try:
                self._stream = self._create(stream=True, **request)
            except APIStatusError as exc:
                request = self._send(exc)
                if self._final is not None:
                    return
                continue
            self._reading = StreamReading(self._target)
            with self._stream as chunks:
                for chunk in chunks:
                    yield from self._reading.feed(chunk)
                completion = chunks.get_final_completion()
            request = self._send(completion)
            if self._final is not None:
                yield from _done_events(self._final)
                return

    def _send(self, result: ChatCompletion | APIStatusError) -> dict[str, Any]:
        try:
            return self._steps.send(result)
        except StopIteration as stop:
            self._final = stop.value
            return {}

    def __iter__(self) -> Iterator[ChatCompletionStreamEvent]:
        return self._events

    def __next__(self) -> ChatCompletionStreamEvent:
        return next(self._events)

    def items(self) -> Iterator[Any]:
        """For `list[X]`: each X as its closing bracket arrives (an item that is not a valid
        X is skipped here; the end of the stream reports it)."""
        for _ in self._events:
            fresh = self._reading.new_items(self._items_taken)
            self._items_taken += len(fresh)
            yield from (item for item in fresh if item is not None)

    def until_done(self) -> Self:
        for _ in self._events:
            pass
        return self

    def get_final_completion(self) -> ParsedChatCompletion[_T]:
        """Read what is left; the `ParsedChatCompletion` (or the error the answer ended in)."""
        self.until_done()
        if self._final is None:
            raise self._no_final()
        return self._final

    def close(self) -> None:
        self._events.close()  # type: ignore[attr-defined]
        if self._stream is not None:
            self._stream.close()


class ChatCompletionStreamManager(Generic[_T]):
    """What `stream()` returns: `with client.chat.completions.stream(...) as stream:`."""

    def __init__(
        self,
        create: Callable[..., Any],
        client: object,
        base_url: str,
        response_format: object,
        mode: str,
        max_reasks: int,
        params: Mapping[str, Any],
    ) -> None:
        checked = check_options(mode, max_reasks)
        self._target = prepare(response_format)
        self._steps = plan(
            client, base_url, response_format, checked, max_reasks, _stream_params(params)
        )
        self._first = next(self._steps)  # arguments are checked now, before anything is sent
        self._create = create
        self._stream: ChatCompletionStream[_T] | None = None

    def __enter__(self) -> ChatCompletionStream[_T]:
        self._stream = ChatCompletionStream(self._create, self._steps, self._target, self._first)
        return self._stream

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            self._stream.close()


class AsyncChatCompletionStream(_Base[_T]):
    """`ChatCompletionStream` for asyncio: `async for event in stream`."""

    def __init__(
        self,
        create: Callable[..., Awaitable[Any]],
        steps: Plan,
        target: Target,
        first: dict[str, Any],
    ) -> None:
        super().__init__(steps, target)
        self._create = create
        self._request = first
        self._stream: Any = None
        self._events = self._run()

    async def _run(self) -> AsyncIterator[ChatCompletionStreamEvent]:
        request = self._request
        while True:
            try:
                self._stream = await self._create(stream=True, **request)
            except APIStatusError as exc:
                request = self._send(exc)
                if self._final is not None:
                    return
                continue
            self._reading = StreamReading(self._target)
            async with self._stream as chunks:
                async for chunk in chunks:
                    for event in self._reading.feed(chunk):
                        yield event
                completion = await chunks.get_final_completion()
            request = self._send(completion)
            if self._final is not None:
                for event in _done_events(self._final):
                    yield event
                return

    def _send(self, result: ChatCompletion | APIStatusError) -> dict[str, Any]:
        try:
            return self._steps.send(result)
        except StopIteration as stop:
            self._final = stop.value
            return {}

    def __aiter__(self) -> AsyncIterator[ChatCompletionStreamEvent]:
        return self._events

    async def __anext__(self) -> ChatCompletionStreamEvent:
        return await self._events.__anext__()

    async def items(self) -> AsyncIterator[Any]:
        """`ChatCompletionStream.items`, asynchronously."""
        async for _ in self._events:
            fresh = self._reading.new_items(self._items_taken)
            self._items_taken += len(fresh)
            for item in fresh:
                if item is not None:
                    yield item

    async def until_done(self) -> Self:
        async for _ in self._events:
            pass
        return self

    async def get_final_completion(self) -> ParsedChatCompletion[_T]:
        await self.until_done()
        if self._final is None:
            raise self._no_final()
        return self._final

    async def close(self) -> None:
        await self._events.aclose()  # type: ignore[attr-defined]
        if self._stream is not None:
            await self._stream.close()


class AsyncChatCompletionStreamManager(Generic[_T]):
    """What the async `stream()` returns: `async with client.chat.completions.stream(...)`."""

    def __init__(
        self,
        create: Callable[..., Awaitable[Any]],
        client: object,
        base_url: str,
        response_format: object,
        mode: str,
        max_reasks: int,
        params: Mapping[str, Any],
    ) -> None:
        checked = check_options(mode, max_reasks)
        self._target = prepare(response_format)
        self._steps = plan(
            client, base_url, response_format, checked, max_reasks, _stream_params(params)
        )
        self._first = next(self._steps)
        self._create = create
        self._stream: AsyncChatCompletionStream[_T] | None = None

    async def __aenter__(self) -> AsyncChatCompletionStream[_T]:
        self._stream = AsyncChatCompletionStream(
            self._create, self._steps, self._target, self._first
        )
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            await self._stream.close()
