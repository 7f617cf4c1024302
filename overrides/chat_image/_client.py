"""`ChatImage` and `AsyncChatImage`: the `openai`-shaped entry points.

Both wrap the generated `AuthenticatedClient`, which holds the httpx client, and differ only
in how they send and sleep; building the request and reading the answer live in `_wire`,
when to retry and how long to wait in `_retry`, which error is raised in `_errors`.

Sending (`_send`: retries, transport failures, error statuses) is apart from reading the
answer (`read_completion`, or a `Stream` around the unread response), as in the `openai`
package's base client. Retries run here, around `httpx.Client.send`, so they apply to a
caller's own `http_client` too. The generated client underneath gets a `RetryTransport`, so
that the generated endpoint functions retry when called with `client.api_client`; requests
sent from here tell that transport not to retry again.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Self, SupportsIndex, Unpack, overload

import httpx

from ._base_client import (
    DEADLINE_EXTENSION,
    MAX_RETRIES_EXTENSION,
    RETRIES_TAKEN_EXTENSION,
    STREAM_EXTENSION,
    TOTAL_TIMEOUT_EXTENSION,
)
from ._config import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    Settings,
    to_timeout,
)
from ._exceptions import ChatImageError, status_error, transport_error
from ._request import (
    BODY_OPTIONS,
    CompletionParams,
    RequestBody,
    StreamOptions,
    build_body,
    build_request,
    check_param_names,
)
from ._response import read_completion
from ._validation import (
    check_headers,
    check_http_client,
    check_max_response_bytes,
    check_max_retries,
    check_seconds,
)
from ._version import __version__

# What only some programs need is imported where it is first needed, not here: the retry
# machinery when a client is made, streaming when a call streams, asyncio when an async
# client first waits. `import chat_image` stays cheap for CLIs and short scripts.
if TYPE_CHECKING:
    from chat_image_api import AuthenticatedClient

    from ._images.stage import ImagesOption
    from ._models.chunk import ChatCompletionChunk
    from ._models.completion import ChatCompletion
    from ._response import RawResponse
    from ._retry import OnRetry, RetryPolicy
    from ._streaming import AsyncStream, Stream

__all__ = ["AsyncChatImage", "ChatImage"]

_USER_AGENT = f"chat-image-python/{__version__}"
# What httpx.Client() uses when not told otherwise (5 s for everything): a caller's client
# with any other timeout was configured on purpose, and its timeout is kept (as `openai` does).
_HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)


def _timeout_for(
    timeout: float | httpx.Timeout | None, http_client: httpx.Client | httpx.AsyncClient | None
) -> float | httpx.Timeout | None:
    if (
        timeout is None
        and http_client is not None
        and http_client.timeout != _HTTPX_DEFAULT_TIMEOUT
    ):
        return http_client.timeout
    return timeout


def _check_open(http: httpx.Client | httpx.AsyncClient) -> None:
    if http.is_closed:
        raise ChatImageError("the client is closed; make a new one (or use it inside `with`)")


def _closed_during_call() -> ChatImageError:
    # What failed then is only the pool going away under the call: say so, not what broke.
    return ChatImageError(
        "the client was closed (close() from another thread or task) while this call was "
        "under way; close a client only after its calls have returned"
    )


def _attempt_deadline(
    per_attempt: float | None, call: tuple[float, str] | None
) -> tuple[float | None, str]:
    """When the next attempt must end (time.monotonic()), and what that deadline is."""
    if per_attempt is None:
        return call or (None, "")
    ends = time.monotonic() + per_attempt
    if call is not None and call[0] < ends:
        return call
    return ends, f"the attempt's {per_attempt:g} s timeout"


# In a forked child: the generated clients (and so the pools) the parent made, never to be
# used or finalized here (see `_BaseClient._after_fork`).
_PARENT_POOLS: list[object] = []


def _forked_with_own_client(client: _BaseClient) -> NoReturn:
    raise ChatImageError(
        f"this {type(client).__name__} was made in another process (pid {client._pid}) with "
        "your own http_client, whose pooled connections belong to that process; after a fork "
        "make the client, and its http_client, in the process that uses it"
    )


class _BaseClient:
    """Settings and the generated client; no I/O."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        retry_policy: RetryPolicy | None,
        on_retry: OnRetry | None,
        total_timeout: float | None,
        max_response_bytes: int,
        images: ImagesOption = None,
    ) -> None:
        from ._images.stage import ImageStage
        from ._retry import RetryPolicy

        # Issue 18: the image policy and download cache, applied to each call (`create`).
        self._images = ImageStage(images)

        self._settings = Settings.resolve(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._retry_policy = retry_policy or RetryPolicy()
        self._total_timeout = check_seconds("total_timeout", total_timeout)
        self._max_response_bytes = check_max_response_bytes(max_response_bytes)
        # Told of each retry before its wait: how a batch runner sees 429s and their headers.
        self._on_retry = on_retry
        default_headers = check_headers("default_headers", default_headers)
        self._default_headers = default_headers
        self._headers = {
            "User-Agent": _USER_AGENT,
            **(default_headers or {}),
            "Authorization": f"Bearer {self._settings.api_key}",
        }
        self._api = self._new_api()
        # The process whose pool this is: a forked child must not use its parent's sockets.
        self._pid = os.getpid()
        self._owns_http_client = True

    def _new_api(self) -> AuthenticatedClient:
        """The generated client, with a pool (and retry transport) of its own."""
        from chat_image_api import AuthenticatedClient

        from ._transports.retry import RetryTransport

        # The httpx client the generated one builds carries these headers itself (it adds
        # the Authorization); only a caller's own httpx client needs them on each request.
        return AuthenticatedClient(
            base_url=self._settings.base_url,
            token=self._settings.api_key,
            timeout=self._settings.timeout,
            headers={"User-Agent": _USER_AGENT, **(self._default_headers or {})},
            # The transport carries the pool limits: httpx ignores `limits` beside a transport.
            httpx_args={
                "transport": RetryTransport(
                    max_retries=self._settings.max_retries,
                    policy=self._retry_policy,
                    limits=DEFAULT_LIMITS,
                )
            },
        )

    def _forked(self) -> bool:
        """Whether this process is not the one the pool was made in (a child after a fork)."""
        return self._pid != os.getpid()

    def _after_fork(self) -> None:
        # The parent's pool is left alone, not closed: its sockets are the parent's to use.
        # It is kept referenced, too: finalized here, aiohttp's connector would close its
        # transports, which unregisters their sockets from the epoll set that parent and
        # child share after a fork, and the parent would wait forever for its answers.
        _PARENT_POOLS.append(self._api)
        self._pid = os.getpid()
        self._api = self._new_api()

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def max_retries(self) -> int:
        return self._settings.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._settings.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry_policy

    @property
    def api_client(self) -> AuthenticatedClient:
        """The generated client underneath, for calling the generated endpoint directly.

        With a caller's own `http_client`, it sends on that client as it is: with that
        client's base URL and headers, not this one's, and without retries.
        """
        self._http()  # a fresh pool after a fork
        return self._api

    def _http(self) -> httpx.Client | httpx.AsyncClient:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        # A copy would share (or, unpickled, lack) the connection pool and its sockets.
        raise TypeError(
            f"{type(self).__name__} cannot be pickled or copied: it owns a connection pool; "
            "make a new client where it is needed (in each process, say)"
        )

    def _request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        body: RequestBody,
        extra_headers: Mapping[str, str] | None,
        timeout: float | httpx.Timeout | None,
    ) -> httpx.Request:
        # Re-sending the client's own headers costs about 6 us a call in httpx's header merge.
        headers = self._headers if not self._owns_http_client else {}
        if extra_headers:
            headers = {**headers, **check_headers("extra_headers", extra_headers)}
        request = build_request(
            http,
            base_url=self._settings.base_url,
            headers=headers,
            body=body,
            timeout=self._settings.timeout if timeout is None else to_timeout(timeout),
        )
        # Retries happen around send(), here; the RetryTransport below must not add its own.
        request.extensions[MAX_RETRIES_EXTENSION] = 0
        return request

    def _prepare(
        self,
        http: httpx.Client | httpx.AsyncClient,
        stream: bool,
        stream_options: StreamOptions | None,
        params: Mapping[str, Any],
    ) -> tuple[httpx.Request, int]:
        """`create()`'s arguments checked, as the request to send and its retry budget."""
        check_param_names(params)
        retries = self._max_retries(params.get("max_retries"))
        options = {key: params[key] for key in BODY_OPTIONS if params.get(key) is not None}
        extra_body = params.get("extra_body")
        body = build_body(
            model=params["model"],
            messages=params["messages"],
            max_tokens=params["max_tokens"],
            params={**options, **extra_body} if extra_body else options,
            stream=stream,
            stream_options=stream_options,
        )
        request = self._request(http, body, params.get("extra_headers"), params.get("timeout"))
        total_timeout = check_seconds("total_timeout", params.get("total_timeout"))
        total_timeout = self._total_timeout if total_timeout is None else total_timeout
        if total_timeout is not None:
            request.extensions[TOTAL_TIMEOUT_EXTENSION] = total_timeout
        if stream:
            request.extensions[STREAM_EXTENSION] = True
        return request, retries

    def _call_deadline(self, request: httpx.Request) -> tuple[float, str] | None:
        """When the whole call must end, and what that deadline is; None when unbounded."""
        seconds = request.extensions.get(TOTAL_TIMEOUT_EXTENSION)
        if seconds is None:
            return None
        # Set once, by the first attempt: a stream's re-sends count against the same bound.
        ends = request.extensions.setdefault(DEADLINE_EXTENSION, time.monotonic() + seconds)
        return ends, f"the call's total_timeout of {seconds:g} s"

    def _stream_retry_wait(
        self,
        request: httpx.Request,
        max_retries: int,
        retries_done: int,
        failure: httpx.HTTPError,
    ) -> float | None:
        """The wait before sending a stream again after it failed before its first event, or
        None when that failure is final: the same policy, budget and deadline as `_send`'s."""
        from ._retry import decide

        return decide(
            self._retry_policy,
            request,
            retries_done,
            max_retries,
            failure,
            self._on_retry,
            request.extensions.get(DEADLINE_EXTENSION),
        )

    def _max_retries(self, max_retries: int | None) -> int:
        if max_retries is None:
            return self._settings.max_retries
        return check_max_retries(max_retries)


class ChatImage(_BaseClient):
    """A synchronous client: `ChatImage().chat.completions.create(...)`."""

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
        images: ImagesOption = None,
    ) -> None:
        check_http_client(http_client, httpx.Client)
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=_timeout_for(timeout, http_client),
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
            on_retry=on_retry,
            total_timeout=total_timeout,
            max_response_bytes=max_response_bytes,
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
                _forked_with_own_client(self)
            self._after_fork()
            self._http_client = None
        if self._http_client is None:
            self._http_client = self._api.get_httpx_client()
        return self._http_client

    def _send(self, request: httpx.Request, max_retries: int, *, stream: bool) -> httpx.Response:
        """Send with retries; a 2xx response, its body read unless `stream`, or our error.

        `response.extensions["chat_image.retries_taken"]` says how many retries it took.
        """
        from ._response import read_body
        from ._retry import retry_sync
        from ._transports import deadline as _deadline

        http = self._http()
        _check_open(http)
        call = self._call_deadline(request)
        per_attempt = _deadline.attempt_seconds(request.extensions.get("timeout", {}))
        limit = self._max_response_bytes

        def attempt() -> httpx.Response:
            if http.is_closed:
                raise _closed_during_call()  # before a retry: httpx's own error is a RuntimeError
            try:
                with _deadline.with_deadline(*_attempt_deadline(per_attempt, call)):
                    response = http.send(request, stream=True)
                    if stream and response.is_success:
                        return response  # bounded between events from here on, not whole
                    try:
                        read_body(response, limit)
                    except BaseException:
                        response.close()
                        raise
            except (httpx.HTTPError, RuntimeError) as exc:
                if http.is_closed:
                    raise _closed_during_call() from exc
                raise
            if http.is_closed:
                # Whether the answer got through a pool closing under it is chance: one rule.
                raise _closed_during_call()
            return response

        try:
            response = retry_sync(
                attempt,
                request=request,
                policy=self._retry_policy,
                max_retries=max_retries,
                sleep=self._sleep,
                on_retry=self._on_retry,
                deadline=None if call is None else call[0],
            )
            if not response.is_success:
                raise status_error(response)
        except httpx.HTTPError as exc:
            raise transport_error(request, exc) from exc
        return response

    def _stream(self, request: httpx.Request, max_retries: int) -> Stream[ChatCompletionChunk]:
        from ._streaming import Stream

        def resend(failure: httpx.HTTPError, retries_done: int) -> httpx.Response | None:
            wait = self._stream_retry_wait(request, max_retries, retries_done, failure)
            if wait is None:
                return None
            self._sleep(wait)
            response = self._send(request, max_retries - retries_done - 1, stream=True)
            response.extensions[RETRIES_TAKEN_EXTENSION] += retries_done + 1
            return response

        return Stream(self._send(request, max_retries, stream=True), resend=resend)

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


class AsyncChatImage(_BaseClient):
    """An asyncio client: `await AsyncChatImage().chat.completions.create(...)`."""

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
        images: ImagesOption = None,
    ) -> None:
        check_http_client(http_client, httpx.AsyncClient)
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=_timeout_for(timeout, http_client),
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
            on_retry=on_retry,
            total_timeout=total_timeout,
            max_response_bytes=max_response_bytes,
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
        # The event loop its pool was first used in: its connections belong to that loop.
        self._loop: weakref.ref[object] | None = None
        if http_client is not None:
            self._api.set_async_httpx_client(http_client)
            self._owns_http_client = False
        self.chat = _AsyncChat(_AsyncCompletions(self))

    def _http(self) -> httpx.AsyncClient:
        if self._forked():
            if not self._owns_http_client and self._aiohttp_client is None:
                _forked_with_own_client(self)
            self._after_fork()
            self._loop = None  # the child's pool is new: any loop may be its first
            if self._aiohttp_client is not None:
                self._aiohttp_client = self._aiohttp_client.remade()
                self._api.set_async_httpx_client(self._aiohttp_client)
        self._check_loop()
        return self._api.get_async_httpx_client()

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

    async def _send(
        self, request: httpx.Request, max_retries: int, *, stream: bool
    ) -> httpx.Response:
        """`ChatImage._send`, awaited."""
        import asyncio

        from ._response import aread_body
        from ._retry import retry_async
        from ._transports import deadline as _deadline

        http = self._http()
        _check_open(http)
        call = self._call_deadline(request)
        per_attempt = _deadline.attempt_seconds(request.extensions.get("timeout", {}))
        limit = self._max_response_bytes

        async def attempt() -> httpx.Response:
            ends, what = _attempt_deadline(per_attempt, call)
            timer = asyncio.timeout(None if ends is None else ends - time.monotonic())
            if http.is_closed:
                raise _closed_during_call()
            try:
                async with timer:
                    try:
                        response = await http.send(request, stream=True)
                    except (httpx.HTTPError, RuntimeError) as exc:
                        if http.is_closed:
                            raise _closed_during_call() from exc
                        raise
                    if stream and response.is_success:
                        return response
                    try:
                        await aread_body(response, limit)
                    except BaseException:
                        await response.aclose()
                        raise
            except TimeoutError:
                if timer.expired():
                    raise httpx.ReadTimeout(_deadline.passed(what), request=request) from None
                raise
            return response

        try:
            response = await retry_async(
                attempt,
                request=request,
                policy=self._retry_policy,
                max_retries=max_retries,
                sleep=self._sleep,
                on_retry=self._on_retry,
                deadline=None if call is None else call[0],
            )
            if not response.is_success:
                raise status_error(response)
        except httpx.HTTPError as exc:
            raise transport_error(request, exc) from exc
        return response

    async def _stream(
        self, request: httpx.Request, max_retries: int
    ) -> AsyncStream[ChatCompletionChunk]:
        from ._streaming import AsyncStream

        async def resend(failure: httpx.HTTPError, retries_done: int) -> httpx.Response | None:
            wait = self._stream_retry_wait(request, max_retries, retries_done, failure)
            if wait is None:
                return None
            await self._sleep(wait)
            response = await self._send(request, max_retries - retries_done - 1, stream=True)
            response.extensions[RETRIES_TAKEN_EXTENSION] += retries_done + 1
            return response

        response = await self._send(request, max_retries, stream=True)
        return AsyncStream(response, resend=resend)

    async def close(self) -> None:
        """Close the connection pool, unless the caller passed their own httpx client (a
        `DefaultAioHttpClient` is closed)."""
        if self._closes_http_client:
            await self._http().aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _Completions:
    """`client.chat.completions`."""

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
        `Stream` of typed chunks. The arguments are `CompletionParams`'."""
        client = self._client

        def send(params: dict[str, Any]) -> ChatCompletion | Stream[ChatCompletionChunk]:
            request, retries = client._prepare(client._http(), stream, stream_options, params)
            if stream:
                return client._stream(request, retries)
            return read_completion(client._send(request, retries, stream=False))

        # Issue 18: the images fitted to the policy first (and "auto" URLs inlined on a 400).
        return client._images.call(params, send)

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

        def send(params: dict[str, Any]) -> RawResponse:
            request, retries = client._prepare(client._http(), False, None, params)
            return RawResponse(client._send(request, retries, stream=False))

        return client._images.call(params, send)  # issue 18, as in `create`


class _AsyncCompletions:
    """`client.chat.completions`, awaitable."""

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
        """`ChatImage`'s `create`, awaited: `AsyncStream` when streaming."""
        client = self._client

        async def send(
            params: dict[str, Any],
        ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
            request, retries = client._prepare(client._http(), stream, stream_options, params)
            if stream:
                return await client._stream(request, retries)
            return read_completion(await client._send(request, retries, stream=False))

        # Issue 18: as in `ChatImage`; downloads awaited, pixel work in a worker thread.
        return await client._images.acall(params, send)

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

        async def send(params: dict[str, Any]) -> RawResponse:
            request, retries = client._prepare(client._http(), False, None, params)
            return RawResponse(await client._send(request, retries, stream=False))

        return await client._images.acall(params, send)  # issue 18, as in `create`


class _Chat:
    """`client.chat`."""

    def __init__(self, completions: _Completions) -> None:
        self.completions = completions


class _AsyncChat:
    """`client.chat`, awaitable."""

    def __init__(self, completions: _AsyncCompletions) -> None:
        self.completions = completions
