"""The transport behind `DefaultAioHttpClient`: httpx-aiohttp's, failing only in httpx's terms.

httpx-aiohttp maps a few aiohttp exceptions, some to the wrong kind (a server that hangs up
becomes a `ConnectTimeout`), and lets others through (a malformed status line, a reset
socket). Each would skip our retries or escape our error tree, so every failure is mapped
here again, from the aiohttp exception itself, to the httpx error httpcore raises for the
same fault. A request body that fails on its own (an image file changed while it is sent)
is wrapped by aiohttp as a connection error; it is raised as itself here, as httpx raises it.
Imported only when a `DefaultAioHttpClient` is made: it imports aiohttp.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NoReturn

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["aiohttp_transport", "httpx_error"]

# Most specific first: aiohttp's classes nest (a connector error is an OS error is a
# connection error). Timeouts: aiohttp cannot tell a pool wait from a slow connect (both end
# in ConnectionTimeoutError), and has no write timeout (httpx-aiohttp does not pass it on).
_MAP: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (TimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.NetworkError),
    (OSError, httpx.NetworkError),
    (aiohttp.ClientError, httpx.TransportError),
)


def httpx_error(exc: Exception) -> Exception:
    """The httpx error that `exc` (from aiohttp, or httpx-aiohttp's mapping of it) means; the
    request body's own failure if aiohttp wrapped one; any other exception unchanged."""
    origin = exc.__cause__ if isinstance(exc, httpx.TransportError) else exc
    if origin is None:
        return exc
    body_failure = _body_failure(origin)
    if body_failure is not None:
        return body_failure
    for aiohttp_type, httpx_type in _MAP:
        if isinstance(origin, aiohttp_type):
            return httpx_type(str(origin) or type(origin).__name__)
    return exc


def _body_failure(origin: BaseException) -> Exception | None:
    # aiohttp reports any non-OS error from the body it writes as exactly this class, caused
    # by that error; httpx lets it through as it is (an InvalidImageError, say), and so do we.
    cause = origin.__cause__
    if type(origin) is not aiohttp.ClientConnectionError or not isinstance(cause, Exception):
        return None
    return None if isinstance(cause, aiohttp.ClientError | OSError) else cause


def _raise_mapped(exc: Exception) -> NoReturn:
    """Raise what `exc` means (see `httpx_error`), keeping `exc` as the cause of a mapped error
    and a body's own failure as it was raised."""
    mapped = httpx_error(exc)
    if mapped is exc:
        raise exc
    if isinstance(mapped, httpx.TransportError):
        raise mapped from exc
    raise mapped from mapped.__cause__


class _Body(httpx.AsyncByteStream):
    """A response body whose read failures are httpx's, like the request's."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except Exception as exc:
            _raise_mapped(exc)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        except Exception as exc:
            _raise_mapped(exc)


class _MappedTransport(httpx.AsyncBaseTransport):
    """An `AiohttpTransport` whose every failure is an httpx one."""

    def __init__(self, inner: AiohttpTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response: httpx.Response = await self._inner.handle_async_request(request)
        except Exception as exc:
            _raise_mapped(exc)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def aiohttp_transport(**kwargs: Any) -> httpx.AsyncBaseTransport:
    """An aiohttp transport for httpx, given `httpx.AsyncClient._init_transport`'s arguments."""
    return _MappedTransport(AiohttpTransport(**kwargs))
