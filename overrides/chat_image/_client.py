"""`ChatImage` and `AsyncChatImage`: the `openai`-shaped entry points.

Both wrap the generated `AuthenticatedClient`, which holds the httpx client. Everything that
does no I/O, from checking `create()`'s arguments to deciding what an attempt's outcome means,
is in `_base_client` and shared; the two classes here differ only in how they send, sleep
and read. Building the request lives in `_request`, reading the answer in `_response`, when
to retry and how long to wait in `_retry`, which error is raised in `_exceptions`.

Retries run here, around `httpx.Client.send`, so they apply to a caller's own `http_client`
too. The generated client underneath gets a `RetryTransport`, so that the generated endpoint
functions retry when called with `client.api_client`; requests sent from here tell that
transport not to retry again.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, Unpack, overload

import httpx

from ._base_client import BaseClient, Call, check_open, check_still_open, timeout_for
from ._compat import lean_cookies
from ._config import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_RETRIES
from ._exceptions import ChatImageError
from ._request import CompletionParams, StreamOptions
from ._response import aread_body, read_body, read_completion
from ._retry import retry_async, retry_sync
from ._structured.methods import AsyncStructuredMethods, SyncStructuredMethods
from ._transports import deadline as _deadline
from ._validation import check_http_client

# What only some programs need is imported where it is first needed, not here: the retry
# machinery when a client is made, streaming when a call streams, asyncio when an async
# client first waits. `import chat_image` stays cheap for CLIs and short scripts.
if TYPE_CHECKING:
    from ._images.stage import ImagesOption
    from ._models.chunk import ChatCompletionChunk
    from ._models.completion import ChatCompletion
    from ._response import RawResponse
    from ._retry import OnRetry, RetryPolicy
    from ._streaming import AsyncStream, Stream

__all__ = ["AsyncChatImage", "ChatImage"]


def _first_event_deadline(call: Call) -> tuple[float, str] | None:
    """When a stream's first event must have come, and why: the call's total_timeout."""
    return None if call.deadline is None else (call.deadline, call.deadline_reason)


class ChatImage(BaseClient):
    """A synchronous client: `ChatImage().chat.completions.create(...)`.

    Use it as a context manager, or call `close()`, to free its connections. Every argument
    is keyword-only and optional.

    Args:
        api_key: Sent as a bearer token; by default `CHAT_IMAGE_API_KEY`, then
            `OPENAI_API_KEY`. Never shown in a repr, an error or a log line.
        base_url: The gateway, with or without a trailing `/v1`; by default
            `CHAT_IMAGE_BASE_URL`, then `OPENAI_BASE_URL`.
        timeout: Seconds or an `httpx.Timeout`: each wait, and each whole attempt at most the
            largest of its phases. By default `http_client`'s own, else `DEFAULT_TIMEOUT`
            (5 s to connect, 120 s otherwise).
        max_retries: Attempts after the first for failures worth retrying (connection
            errors, timeouts, 408, 409, 429, 5xx); `DEFAULT_MAX_RETRIES` (2) by default.
        default_headers: Headers sent with every request; ASCII strings.
        http_client: Your own `httpx.Client` (pool, proxies, transport): used as it is and
            left open by `close()`. By default the client builds its own pool.
        retry_policy: The waits between attempts; `RetryPolicy()` by default.
        on_retry: Called with a `RetryEvent` before each wait between attempts.
        total_timeout: Seconds for a whole call: attempts, retries and the waits between
            them. None (the default) leaves a call bounded by its attempts only.
        max_response_bytes: The largest answer body read, counted after decompression;
            64 MiB by default. A larger one is a `ResponseTooLargeError`.
        tracing: OpenTelemetry spans and metrics for each call (the `otel` extra): None
            (default) follows `CHAT_IMAGE_TRACING` (on unless `0`), False is off, True is on
            and, without the extra, a `MissingExtraError`.
        gen_ai_provider: The `gen_ai.provider.name` spans and metrics report; "openai" by
            default.
        images: The image policy (`ImagePolicy`, or a profile name: "openai", the default,
            "anthropic", "gemini", "vllm"): images fitted, converted, turned upright and
            stripped of metadata before sending. False sends them exactly as given.

    Raises:
        InvalidInputError: A missing key or base URL (naming the variables to set), a base
            URL with credentials in it, a host no resolver takes or a bad port, a header
            that is not an ASCII string, a negative or non-numeric number, or an
            `http_client` that is not an `httpx.Client`. Nothing is sent.
        MissingExtraError: `tracing=True` without the `otel` extra installed.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
        on_retry: OnRetry | None = None,
        total_timeout: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        tracing: bool | None = None,
        gen_ai_provider: str | None = None,
        images: ImagesOption = None,
    ) -> None:
        check_http_client(http_client, httpx.Client)
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_for(timeout, http_client),
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
            on_retry=on_retry,
            total_timeout=total_timeout,
            max_response_bytes=max_response_bytes,
            tracing=tracing,
            gen_ai_provider=gen_ai_provider,
            images=images,
        )
        # How the wait between attempts is spent; tests record the waits here instead.
        self._sleep: Callable[[float], object] = time.sleep
        self._http_client: httpx.Client | None = None
        if http_client is not None:
            self._api.set_httpx_client(http_client)
            self._owns_http_client = False
        self.chat = _Chat(_Completions(self))

    def _http(self) -> httpx.Client:
        if self._forked():
            if not self._owns_http_client:
                self._forked_with_own_client()
            self._after_fork()
            self._http_client = None
        if self._http_client is None:
            self._http_client = self._api.get_httpx_client()
            if self._owns_http_client:
                lean_cookies(self._http_client)
        return self._http_client

    def _send(self, call: Call) -> httpx.Response:
        """Send with retries; a 2xx response, its body read unless it streams, or our error.

        `response.extensions["chat_image.retries_taken"]` says how many retries it took.
        """
        http = self._http()
        check_open(http)

        def attempt() -> httpx.Response:
            check_still_open(http, None)
            try:
                with _deadline.with_deadline(*call.attempt_deadline()):
                    response = http.send(call.request, stream=True)
                    if call.unread(response):
                        return response  # bounded between events from here on, not whole
                    try:
                        read_body(response, call.max_response_bytes)
                    except BaseException:
                        response.close()
                        raise
            except (httpx.HTTPError, RuntimeError) as exc:
                check_still_open(http, exc)
                raise
            check_still_open(http, None)
            return response

        try:
            response = retry_sync(
                attempt,
                request=call.request,
                policy=self._retry_policy,
                max_retries=call.max_retries,
                sleep=self._sleep,
                on_retry=self._on_retry,
                deadline=call.deadline,
            )
            return self._answered(call, response)
        except httpx.HTTPError as exc:
            raise self._failed(call, exc) from exc

    def _stream(self, call: Call) -> Stream[ChatCompletionChunk]:
        from ._streaming import Stream

        def resend(failure: httpx.HTTPError, retries_done: int) -> httpx.Response | None:
            wait = self._resend_wait(call, retries_done, failure)
            if wait is None:
                return None
            self._sleep(wait)
            return self._send(call.resent(retries_done))

        # Issue 22: a stream is bounded as a read answer is, and until its first event by the
        # call's deadline (total_timeout).
        return Stream(self._send(call), resend=resend)._bound(
            call.max_response_bytes, _first_event_deadline(call)
        )

    def close(self) -> None:
        """Close the connection pool, unless the caller passed their own httpx client."""
        if self._owns_http_client:
            self._http().close()

    def __del__(self) -> None:
        # `client = ChatImage()` without `with` is the common notebook idiom (as with the
        # `openai` package): release the pool when the client goes, not at interpreter exit.
        http = getattr(self, "_http_client", None)
        try:
            if http is not None and self._owns_http_client and not self._forked():
                http.close()
        except Exception:  # noqa: S110 - nothing useful to do during garbage collection
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncChatImage(BaseClient):
    """An asyncio client: `await AsyncChatImage().chat.completions.create(...)`.

    Use it with `async with`, or `await close()`, to free its connections. It belongs to the
    event loop it is first used in. Every argument is keyword-only and optional.

    Args:
        api_key: Sent as a bearer token; by default `CHAT_IMAGE_API_KEY`, then
            `OPENAI_API_KEY`. Never shown in a repr, an error or a log line.
        base_url: The gateway, with or without a trailing `/v1`; by default
            `CHAT_IMAGE_BASE_URL`, then `OPENAI_BASE_URL`.
        timeout: Seconds or an `httpx.Timeout`: each wait, and each whole attempt at most the
            largest of its phases. By default `http_client`'s own, else `DEFAULT_TIMEOUT`
            (5 s to connect, 120 s otherwise).
        max_retries: Attempts after the first for failures worth retrying (connection
            errors, timeouts, 408, 409, 429, 5xx); `DEFAULT_MAX_RETRIES` (2) by default.
        default_headers: Headers sent with every request; ASCII strings.
        http_client: Your own `httpx.AsyncClient`, left open by `close()`, or a
            `DefaultAioHttpClient()` (the `aiohttp` extra), which `close()` closes. By
            default the client builds its own pool.
        retry_policy: The waits between attempts; `RetryPolicy()` by default.
        on_retry: Called with a `RetryEvent` before each wait between attempts.
        total_timeout: Seconds for a whole call: attempts, retries and the waits between
            them. None (the default) leaves a call bounded by its attempts only.
        max_response_bytes: The largest answer body read, counted after decompression;
            64 MiB by default. A larger one is a `ResponseTooLargeError`.
        tracing: OpenTelemetry spans and metrics for each call (the `otel` extra): None
            (default) follows `CHAT_IMAGE_TRACING` (on unless `0`), False is off, True is on
            and, without the extra, a `MissingExtraError`.
        gen_ai_provider: The `gen_ai.provider.name` spans and metrics report; "openai" by
            default.
        images: The image policy (`ImagePolicy`, or a profile name: "openai", the default,
            "anthropic", "gemini", "vllm"): images fitted, converted, turned upright and
            stripped of metadata before sending. False sends them exactly as given.

    Raises:
        InvalidInputError: A missing key or base URL (naming the variables to set), a base
            URL with credentials in it, a host no resolver takes or a bad port, a header
            that is not an ASCII string, a negative or non-numeric number, or an
            `http_client` that is not an `httpx.AsyncClient`. Nothing is sent.
        MissingExtraError: `tracing=True` without the `otel` extra installed.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
        on_retry: OnRetry | None = None,
        total_timeout: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        tracing: bool | None = None,
        gen_ai_provider: str | None = None,
        images: ImagesOption = None,
    ) -> None:
        check_http_client(http_client, httpx.AsyncClient)
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_for(timeout, http_client),
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
            on_retry=on_retry,
            total_timeout=total_timeout,
            max_response_bytes=max_response_bytes,
            tracing=tracing,
            gen_ai_provider=gen_ai_provider,
            images=images,
        )
        from ._retry import asyncio_sleep
        from ._transports.aiohttp import DefaultAioHttpClient

        # How the wait between attempts is spent; tests record the waits here instead.
        self._sleep: Callable[[float], Awaitable[object]] = asyncio_sleep
        # A DefaultAioHttpClient is made for this client (`http_client=DefaultAioHttpClient()`,
        # as with the `openai` package), so it closes with it; a caller's own client stays open.
        self._closes_http_client = http_client is None or isinstance(
            http_client, DefaultAioHttpClient
        )
        # A DefaultAioHttpClient can be made again in a forked child; another client cannot.
        self._aiohttp_client = (
            http_client if isinstance(http_client, DefaultAioHttpClient) else None
        )
        # The httpx client whose cookie store `_http()` last made lean (see `lean_cookies`).
        self._lean_http: httpx.AsyncClient | None = None
        # The event loop its pool was first used in: its connections belong to that loop.
        self._loop: weakref.ref[object] | None = None
        if http_client is not None:
            self._api.set_async_httpx_client(http_client)
            self._owns_http_client = False
        self.chat = _AsyncChat(_AsyncCompletions(self))

    def _http(self) -> httpx.AsyncClient:
        if self._forked():
            if not self._owns_http_client and self._aiohttp_client is None:
                self._forked_with_own_client()
            self._after_fork()
            self._loop = None  # the child's pool is new: any loop may be its first
            if self._aiohttp_client is not None:
                self._aiohttp_client = self._aiohttp_client.remade()
                self._api.set_async_httpx_client(self._aiohttp_client)
        self._check_loop()
        http = self._api.get_async_httpx_client()
        if http is not self._lean_http:
            # The pool the generated client made for us (once, and again after a fork).
            if self._owns_http_client:
                lean_cookies(http)
            self._lean_http = http
        return http

    def _check_loop(self) -> None:
        """Refuse a loop other than the one the pool was first used in (two `asyncio.run()`s)."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # `api_client` read outside any loop: nothing is sent here
        if self._loop is None:
            self._loop = weakref.ref(loop)
            return
        if self._loop() is loop:
            return
        # A pool per loop was the other way: but a closed loop's connections cannot be closed
        # any more (their transports need that loop), and a caller's own client cannot be
        # remade; one clear rule serves every backend.
        raise ChatImageError(
            f"this {type(self).__name__} was used in another event loop (an earlier "
            "asyncio.run(), say), and its connections belong to that loop; make the client "
            "inside the coroutine that asyncio.run() runs, or one client per event loop"
        )

    async def _send(self, call: Call) -> httpx.Response:
        """`ChatImage._send`, awaited."""
        import asyncio

        http = self._http()
        check_open(http)

        async def attempt() -> httpx.Response:
            ends, what = call.attempt_deadline()
            timer = asyncio.timeout(None if ends is None else ends - time.monotonic())
            check_still_open(http, None)
            try:
                async with timer:
                    try:
                        response = await http.send(call.request, stream=True)
                        if call.unread(response):
                            return response
                        try:
                            await aread_body(response, call.max_response_bytes)
                        except BaseException:
                            await response.aclose()
                            raise
                    except (httpx.HTTPError, RuntimeError) as exc:
                        check_still_open(http, exc)
                        raise
            except TimeoutError:
                if timer.expired():
                    raise httpx.ReadTimeout(_deadline.passed(what), request=call.request) from None
                raise
            check_still_open(http, None)
            return response

        try:
            response = await retry_async(
                attempt,
                request=call.request,
                policy=self._retry_policy,
                max_retries=call.max_retries,
                sleep=self._sleep,
                on_retry=self._on_retry,
                deadline=call.deadline,
            )
            return self._answered(call, response)
        except httpx.HTTPError as exc:
            raise self._failed(call, exc) from exc

    async def _stream(self, call: Call) -> AsyncStream[ChatCompletionChunk]:
        from ._streaming import AsyncStream

        async def resend(failure: httpx.HTTPError, retries_done: int) -> httpx.Response | None:
            wait = self._resend_wait(call, retries_done, failure)
            if wait is None:
                return None
            await self._sleep(wait)
            return await self._send(call.resent(retries_done))

        return AsyncStream(await self._send(call), resend=resend)._bound(
            call.max_response_bytes, _first_event_deadline(call)
        )

    async def close(self) -> None:
        """Close the connection pool, unless the caller passed their own httpx client (a
        `DefaultAioHttpClient` is closed).

        Works from cleanup code in any event loop: it skips the check that a call's loop is
        the pool's, and a pool whose loop has ended has no connection left to close.
        """
        if not self._closes_http_client or self._forked():
            return  # a forked child's pool is its parent's, never closed here
        http = self._api.get_async_httpx_client()
        if http.is_closed:
            return
        try:
            await http.aclose()
        except RuntimeError:
            # Its connections belong to an event loop that has ended (an earlier
            # asyncio.run()), and closing them needs that loop: they died with it. httpx has
            # marked the client closed before trying, which is all that is left to do.
            if not http.is_closed:
                raise

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _Completions(SyncStructuredMethods):
    """`client.chat.completions` (`parse()` and `stream()` come from `_structured`)."""

    def __init__(self, client: ChatImage) -> None:
        self._client = client

    @overload
    def create(
        self, *, stream: Literal[False] = False, **params: Unpack[CompletionParams]
    ) -> ChatCompletion: ...
    @overload
    def create(
        self,
        *,
        stream: Literal[True],
        stream_options: StreamOptions | None = None,
        **params: Unpack[CompletionParams],
    ) -> Stream[ChatCompletionChunk]: ...
    @overload
    def create(
        self,
        *,
        stream: bool,
        stream_options: StreamOptions | None = None,
        **params: Unpack[CompletionParams],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]: ...
    def create(
        self,
        *,
        stream: bool = False,
        stream_options: StreamOptions | None = None,
        **params: Unpack[CompletionParams],
    ) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """Send one chat completion request: the typed answer, or with `stream=True` a
        `Stream` of typed chunks (read it inside `with`).

        Args:
            model: The model the gateway routes to.
            messages: The conversation: `SystemMessage`, `DeveloperMessage`,
                `UserMessage`, `AssistantMessage` (with its `tool_calls`) and `ToolMessage`,
                the `openai` package's dicts, or a message a call returned, mixed freely.
            max_tokens: The longest answer, in tokens (1 or more); the gateway requires it.
            stream: True returns a stream of `ChatCompletionChunk`s as they arrive.
            stream_options: With `stream=True`: `{"include_usage": True}` asks for a last
                chunk carrying the token usage.
            **params: The rest of `CompletionParams`, each optional and not sent when None:
                `temperature`, `top_p`, `n`, `stop`, `seed`, `presence_penalty`,
                `frequency_penalty`, `user`; `response_format`, `tools` (dicts, or
                functions and classes to build them from), `tool_choice`,
                `parallel_tool_calls`, `logprobs`, `top_logprobs`, `max_completion_tokens`,
                `reasoning_effort` and `logit_bias` as OpenAI defines them; `extra_body` and
                `extra_headers` for what this list does not name; and `timeout`,
                `total_timeout` and `max_retries` for this call instead of the client's;
                `images` for this call's image policy (an `ImagePolicy` or a profile name;
                False sends images as given).

        Raises:
            TypeError: An argument `create()` does not take, or a required one missing.
            InvalidInputError: A value the gateway would refuse (an unknown role, an image
                URL scheme, `max_tokens=0`, ...), naming the field; nothing is sent.
                `InvalidImageError` when an image file changed since its part was made;
                `ImageLimitError` (too many images, or one that cannot fit the policy),
                `UnsupportedImageError` (an extra to install), `ImageFetchError` (an image
                URL to inline that could not be downloaded).
            APIStatusError: The gateway answered an error status, after the retries; a
                subclass per status (`BadRequestError`, `RateLimitError`, ...).
            APIConnectionError: No complete answer, after the retries;
                `APITimeoutError` when a timeout ran out.
            APIResponseValidationError: A success status whose body is not a chat
                completion (or a stream line that is not a chunk).
            ResponseTooLargeError: An answer over `max_response_bytes`.
            ChatImageError: The client was closed, or is used in a forked child with an
                `http_client` of the caller's.
        """
        client = self._client
        # [tracing] One span for the call, its retries and, for a stream, the whole stream.
        with client._tracing.call(params, stream) as trace:

            def send(params: dict[str, Any]) -> ChatCompletion | Stream[ChatCompletionChunk]:
                call = client._call(client._http(), stream, stream_options, params)
                if stream:
                    return trace.stream(client._stream(call))
                response = client._send(call)
                return trace.answered(response, read_completion(response))

            # Issue 18: the images fitted to the policy first (and "auto" URLs inlined on a 400).
            return client._images.call(trace.params, send)

    @property
    def with_raw_response(self) -> _RawCompletions:
        """`create()` returning the HTTP answer (headers, request id, retries taken), as in
        the `openai` package; `.parse()` on it gives the `ChatCompletion`."""
        return _RawCompletions(self._client)


class _RawCompletions:
    """`client.chat.completions.with_raw_response`."""

    def __init__(self, client: ChatImage) -> None:
        self._client = client

    def create(self, **params: Unpack[CompletionParams]) -> RawResponse:
        """`create()`'s arguments; the answer unparsed, its body read (not for streams)."""
        client = self._client
        from ._response import RawResponse

        with client._tracing.call(params, False) as trace:  # [tracing]

            def send(params: dict[str, Any]) -> RawResponse:
                call = client._call(client._http(), False, None, params)
                return trace.raw(RawResponse(client._send(call)))

            return client._images.call(trace.params, send)  # issue 18, as in `create`


class _AsyncCompletions(AsyncStructuredMethods):
    """`client.chat.completions`, awaitable (`parse()` and `stream()` from `_structured`)."""

    def __init__(self, client: AsyncChatImage) -> None:
        self._client = client

    @overload
    async def create(
        self, *, stream: Literal[False] = False, **params: Unpack[CompletionParams]
    ) -> ChatCompletion: ...
    @overload
    async def create(
        self,
        *,
        stream: Literal[True],
        stream_options: StreamOptions | None = None,
        **params: Unpack[CompletionParams],
    ) -> AsyncStream[ChatCompletionChunk]: ...
    @overload
    async def create(
        self,
        *,
        stream: bool,
        stream_options: StreamOptions | None = None,
        **params: Unpack[CompletionParams],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]: ...
    async def create(
        self,
        *,
        stream: bool = False,
        stream_options: StreamOptions | None = None,
        **params: Unpack[CompletionParams],
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """`ChatImage`'s `create`, awaited: the typed answer, or with `stream=True` an
        `AsyncStream` of typed chunks (read it inside `async with`).

        Args:
            model: The model the gateway routes to.
            messages: The conversation: `SystemMessage`, `DeveloperMessage`,
                `UserMessage`, `AssistantMessage` (with its `tool_calls`) and `ToolMessage`,
                the `openai` package's dicts, or a message a call returned, mixed freely.
            max_tokens: The longest answer, in tokens (1 or more); the gateway requires it.
            stream: True returns a stream of `ChatCompletionChunk`s as they arrive.
            stream_options: With `stream=True`: `{"include_usage": True}` asks for a last
                chunk carrying the token usage.
            **params: The rest of `CompletionParams`, each optional and not sent when None:
                `temperature`, `top_p`, `n`, `stop`, `seed`, `presence_penalty`,
                `frequency_penalty`, `user`; `response_format`, `tools` (dicts, or
                functions and classes to build them from), `tool_choice`,
                `parallel_tool_calls`, `logprobs`, `top_logprobs`, `max_completion_tokens`,
                `reasoning_effort` and `logit_bias` as OpenAI defines them; `extra_body` and
                `extra_headers` for what this list does not name; and `timeout`,
                `total_timeout` and `max_retries` for this call instead of the client's;
                `images` for this call's image policy (an `ImagePolicy` or a profile name;
                False sends images as given).

        Raises:
            TypeError: An argument `create()` does not take, or a required one missing.
            InvalidInputError: A value the gateway would refuse (an unknown role, an image
                URL scheme, `max_tokens=0`, ...), naming the field; nothing is sent.
                `InvalidImageError` when an image file changed since its part was made;
                `ImageLimitError` (too many images, or one that cannot fit the policy),
                `UnsupportedImageError` (an extra to install), `ImageFetchError` (an image
                URL to inline that could not be downloaded).
            APIStatusError: The gateway answered an error status, after the retries; a
                subclass per status (`BadRequestError`, `RateLimitError`, ...).
            APIConnectionError: No complete answer, after the retries;
                `APITimeoutError` when a timeout ran out.
            APIResponseValidationError: A success status whose body is not a chat
                completion (or a stream line that is not a chunk).
            ResponseTooLargeError: An answer over `max_response_bytes`.
            ChatImageError: The client was closed, or is used in a forked child with an
                `http_client` of the caller's, or in an event loop other than the one
                it was first used in.
        """
        client = self._client
        # [tracing] One span for the call, its retries and, for a stream, the whole stream.
        with client._tracing.call(params, stream) as trace:

            async def send(
                params: dict[str, Any],
            ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
                call = client._call(client._http(), stream, stream_options, params)
                if stream:
                    return trace.stream(await client._stream(call))
                response = await client._send(call)
                return trace.answered(response, read_completion(response))

            # Issue 18: as in `ChatImage`; downloads awaited, pixel work in a worker thread.
            return await client._images.acall(trace.params, send)

    @property
    def with_raw_response(self) -> _AsyncRawCompletions:
        """`create()` returning the HTTP answer (see `ChatImage`); `.parse()` gives the
        `ChatCompletion`."""
        return _AsyncRawCompletions(self._client)


class _AsyncRawCompletions:
    """`client.chat.completions.with_raw_response`, awaitable."""

    def __init__(self, client: AsyncChatImage) -> None:
        self._client = client

    async def create(self, **params: Unpack[CompletionParams]) -> RawResponse:
        """`create()`'s arguments; the answer unparsed, its body read (not for streams)."""
        client = self._client
        from ._response import RawResponse

        with client._tracing.call(params, False) as trace:  # [tracing]

            async def send(params: dict[str, Any]) -> RawResponse:
                call = client._call(client._http(), False, None, params)
                return trace.raw(RawResponse(await client._send(call)))

            return await client._images.acall(trace.params, send)  # issue 18, as in `create`


class _Chat:
    """`client.chat`."""

    def __init__(self, completions: _Completions) -> None:
        self.completions = completions


class _AsyncChat:
    """`client.chat`, awaitable."""

    def __init__(self, completions: _AsyncCompletions) -> None:
        self.completions = completions
