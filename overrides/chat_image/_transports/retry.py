"""`RetryTransport`: the retry policy at the httpx transport level, for any httpx client.

The generated `AuthenticatedClient` takes one `httpx_args` for both its sync and its async
httpx client, so one transport object serves both: it is an `httpx.BaseTransport` and an
`httpx.AsyncBaseTransport`, wrapping an `httpx.HTTPTransport` and an
`httpx.AsyncHTTPTransport` (made when first needed, or given):

    AuthenticatedClient(base_url=..., token=..., httpx_args={"transport": RetryTransport()})

Each attempt's response body is read inside the transport, so a connection that drops
mid-body is retried like one that never connected; except a stream: a 2xx answer of type
`text/event-stream`, or any answer to a request marked `extensions["chat_image.stream"]`, is
passed on unread as soon as its headers arrive (its error statuses are still retried). A
request may carry its own retry budget in `request.extensions["chat_image.max_retries"]`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx

from .._config import DEFAULT_MAX_RETRIES, MAX_RETRIES_EXTENSION, STREAM_EXTENSION
from .._retry import RetryPolicy, asyncio_sleep, retry_async, retry_sync
from .._validation import check_max_retries
from .deadline import install
from .proxies import EnvironmentProxies

__all__ = [
    "MAX_RETRIES_EXTENSION",
    "STREAM_EXTENSION",
    "RetryTransport",
    "max_retries_of",
]


def _is_stream(request: httpx.Request, response: httpx.Response) -> bool:
    """Whether an answer is read as it arrives: buffering it would hold every event back."""
    if request.extensions.get(STREAM_EXTENSION):
        return True
    return response.is_success and "text/event-stream" in response.headers.get("content-type", "")


def max_retries_of(request: httpx.Request, default: int) -> int:
    """The request's own retry budget if it carries one, else `default`."""
    value = request.extensions.get(MAX_RETRIES_EXTENSION)
    if value is None:
        return default
    return check_max_retries(value, f'extensions["{MAX_RETRIES_EXTENSION}"]')


def _buffered(response: httpx.Response, raw: bytes) -> httpx.Response:
    """The same response with its raw body in memory. The bytes are as received (still
    content-encoded): decoding stays with the client, which sees the same headers."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(raw),
        extensions=response.extensions,
    )


class RetryTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Retries what `RetryPolicy` retries, waiting as it says, for sync and async clients."""

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        async_transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], object] = time.sleep,
        async_sleep: Callable[[float], Awaitable[object]] | None = None,
        limits: httpx.Limits | None = None,
        trust_env: bool = True,
    ) -> None:
        self._limits = limits or httpx.Limits()
        self._transport = transport
        self._async_transport = async_transport
        # Proxies apply to the inner transports made here, not to ones the caller passes.
        self._environment = EnvironmentProxies(trust_env)
        self._proxied: dict[httpx.Proxy, httpx.HTTPTransport] = {}
        self._async_proxied: dict[httpx.Proxy, httpx.AsyncHTTPTransport] = {}
        self.max_retries = check_max_retries(max_retries)
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._async_sleep = async_sleep or asyncio_sleep

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_retries={self.max_retries}, policy={self.policy!r})"

    def _sync(self, url: httpx.URL) -> httpx.BaseTransport:
        if self._transport is None:
            # Under the pool, the network backend that holds each attempt to its deadline.
            self._transport = install(httpx.HTTPTransport(limits=self._limits))
        proxy = self._environment.proxy_for(url)
        if proxy is None:
            return self._transport
        proxied = self._proxied.get(proxy)
        if proxied is None:
            proxied = install(httpx.HTTPTransport(proxy=proxy, limits=self._limits))
            self._proxied[proxy] = proxied
        return proxied

    def _async(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        # Here, not above: it imports asyncio, which a sync program never needs.
        from .early_answer import install as hearing_early_answers

        if self._async_transport is None:
            # Under the pool, the network backend that hears an answer sent mid-upload.
            self._async_transport = hearing_early_answers(
                httpx.AsyncHTTPTransport(limits=self._limits)
            )
        proxy = self._environment.proxy_for(url)
        if proxy is None:
            return self._async_transport
        proxied = self._async_proxied.get(proxy)
        if proxied is None:
            proxied = hearing_early_answers(
                httpx.AsyncHTTPTransport(proxy=proxy, limits=self._limits)
            )
            self._async_proxied[proxy] = proxied
        return proxied

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._sync(request.url)
        max_retries = max_retries_of(request, self.max_retries)
        if max_retries == 0:
            # Nothing to resend: pass the request through untouched, neither reading a
            # streamed body into memory nor buffering the answer.
            return inner.handle_request(request)
        request.read()  # a streamed body can then be sent again

        def attempt() -> httpx.Response:
            response = inner.handle_request(request)
            if _is_stream(request, response):
                return response
            try:
                assert isinstance(response.stream, httpx.SyncByteStream)
                raw = b"".join(response.stream)
            finally:
                response.close()
            return _buffered(response, raw)

        return retry_sync(
            attempt,
            request=request,
            policy=self.policy,
            max_retries=max_retries,
            sleep=self._sleep,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = self._async(request.url)
        max_retries = max_retries_of(request, self.max_retries)
        if max_retries == 0:
            return await inner.handle_async_request(request)
        await request.aread()

        async def attempt() -> httpx.Response:
            response = await inner.handle_async_request(request)
            if _is_stream(request, response):
                return response
            try:
                assert isinstance(response.stream, httpx.AsyncByteStream)
                raw = b"".join([part async for part in response.stream])
            finally:
                await response.aclose()
            return _buffered(response, raw)

        return await retry_async(
            attempt,
            request=request,
            policy=self.policy,
            max_retries=max_retries,
            sleep=self._async_sleep,
        )

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        for proxied in self._proxied.values():
            proxied.close()

    async def aclose(self) -> None:
        if self._async_transport is not None:
            await self._async_transport.aclose()
        for proxied in self._async_proxied.values():
            await proxied.aclose()
