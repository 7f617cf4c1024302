"""`parse()` and `stream()` on `client.chat.completions`, for both clients.

Mixed into the clients' completions classes (`_client.py`), so the send path stays the
lead's: they call the public `create()` like any caller, and the work happens in `parse` and
`stream`, imported when first used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, Unpack, overload

from .._request import ParseParams, StreamOptions

if TYPE_CHECKING:
    from .outcomes import ParsedChatCompletion
    from .stream import AsyncChatCompletionStreamManager, ChatCompletionStreamManager

__all__ = ["AsyncStructuredMethods", "ParseMode", "StreamParams", "SyncStructuredMethods"]

_T = TypeVar("_T")
ParseMode: TypeAlias = Literal["auto", "json_schema", "json_object", "prompt"]


class StreamParams(ParseParams, total=False):
    """`stream()`'s arguments: `create()`'s, and `stream_options` (usage is asked for
    unless given)."""

    stream_options: StreamOptions | None


class SyncStructuredMethods:
    """`parse()` and `stream()` of `ChatImage().chat.completions`."""

    @overload
    def parse(
        self,
        *,
        response_format: type[_T],
        mode: ParseMode = "auto",
        max_reasks: int = 1,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[_T]: ...
    @overload
    def parse(
        self,
        *,
        response_format: Mapping[str, Any],
        mode: ParseMode = "auto",
        max_reasks: int = 1,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[dict[str, Any]]: ...
    @overload
    def parse(
        self,
        *,
        response_format: object,
        mode: ParseMode = "auto",
        max_reasks: int = 1,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[Any]: ...
    def parse(
        self,
        *,
        response_format: object,
        mode: ParseMode = "auto",
        max_reasks: int = 1,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[Any]:
        """`create()` answering with `response_format` (a class, `list[X]`, a union or a JSON
        Schema dict): a `ParsedChatCompletion` whose messages carry `.parsed`. See
        docs/structured-output.md for the modes, re-asks and what each outcome raises."""
        from .parse import parse_sync

        completions: Any = self
        client = completions._client
        return parse_sync(
            completions.create, client, client.base_url, response_format, mode, max_reasks, params
        )

    @overload
    def stream(
        self,
        *,
        response_format: type[_T],
        mode: ParseMode = "auto",
        max_reasks: int = 0,
        **params: Unpack[StreamParams],
    ) -> ChatCompletionStreamManager[_T]: ...
    @overload
    def stream(
        self,
        *,
        response_format: Mapping[str, Any],
        mode: ParseMode = "auto",
        max_reasks: int = 0,
        **params: Unpack[StreamParams],
    ) -> ChatCompletionStreamManager[dict[str, Any]]: ...
    @overload
    def stream(
        self,
        *,
        response_format: object,
        mode: ParseMode = "auto",
        max_reasks: int = 0,
        **params: Unpack[StreamParams],
    ) -> ChatCompletionStreamManager[Any]: ...
    def stream(
        self,
        *,
        response_format: object,
        mode: ParseMode = "auto",
        max_reasks: int = 0,
        **params: Unpack[StreamParams],
    ) -> ChatCompletionStreamManager[Any]:
        """`parse()` streamed: `with ... as stream:`, the `openai` package's events, then
        `stream.get_final_completion()`."""
        from .stream import ChatCompletionStreamManager

        completions: Any = self
        client = completions._client
        return ChatCompletionStreamManager(
            completions.create, client, client.base_url, response_format, mode, max_reasks, params
        )


class AsyncStructuredMethods:
    """`parse()` and `stream()` of `AsyncChatImage().chat.completions`."""

    @overload
    async def parse(
        self,
        *,
        response_format: type[_T],
        mode: ParseMode = "auto",
        max_reasks: int = 1,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[_T]: ...
    @overload
    async def parse(
        self,
        *,
        response_format: Mapping[str, Any],
        mode: ParseMode = "auto",
        max_reasks: int = 1,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[dict[str, Any]]: ...
    @overload
    async def parse(
        self,
        *,
        response_format: object,
        mode: ParseMode = "auto",
        max_reasks: int = 1,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[Any]: ...
    async def parse(
        self,
        *,
        response_format: object,
        mode: ParseMode = "auto",
        max_reasks: int = 1,
        **params: Unpack[ParseParams],
    ) -> ParsedChatCompletion[Any]:
        """`ChatImage`'s `parse()`, awaited."""
        from .parse import parse_async

        completions: Any = self
        client = completions._client
        return await parse_async(
            completions.create, client, client.base_url, response_format, mode, max_reasks, params
        )

    @overload
    def stream(
        self,
        *,
        response_format: type[_T],
        mode: ParseMode = "auto",
        max_reasks: int = 0,
        **params: Unpack[StreamParams],
    ) -> AsyncChatCompletionStreamManager[_T]: ...
    @overload
    def stream(
        self,
        *,
        response_format: Mapping[str, Any],
        mode: ParseMode = "auto",
        max_reasks: int = 0,
        **params: Unpack[StreamParams],
    ) -> AsyncChatCompletionStreamManager[dict[str, Any]]: ...
    @overload
    def stream(
        self,
        *,
        response_format: object,
        mode: ParseMode = "auto",
        max_reasks: int = 0,
        **params: Unpack[StreamParams],
    ) -> AsyncChatCompletionStreamManager[Any]: ...
    def stream(
        self,
        *,
        response_format: object,
        mode: ParseMode = "auto",
        max_reasks: int = 0,
        **params: Unpack[StreamParams],
    ) -> AsyncChatCompletionStreamManager[Any]:
        """`parse()` streamed: `async with ... as stream:`, `async for event in stream`, then
        `await stream.get_final_completion()`."""
        from .stream import AsyncChatCompletionStreamManager

        completions: Any = self
        client = completions._client
        return AsyncChatCompletionStreamManager(
            completions.create, client, client.base_url, response_format, mode, max_reasks, params
        )
