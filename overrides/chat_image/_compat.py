"""Every reach into another package's internals, in one place.

httpx gives no public way to put a network backend under its pool, to hand a body it did not
read to a response, or to build the default transport of a subclass; the generated client
gives no public request builder without sending. Each reach is a function here that fails
loudly (`CompatError`) when an upgrade moves its target, and tests/client/test_compat.py checks
each against the installed versions, so a moved internal is found by the suite, not by users.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import httpcore
import httpx
import httpx._utils as httpx_utils

from chat_image_api.api.chat import create_chat_completion

if TYPE_CHECKING:
    from chat_image_api.models import ChatCompletionRequest

__all__ = [
    "TRANSPORT_HOOKS",
    "CompatError",
    "URLPattern",
    "endpoint_kwargs",
    "environment_proxies",
    "keep_content",
    "lean_cookies",
    "network_backend",
    "otel_meter_provider_reader",
    "set_network_backend",
    "url_pattern",
]

URLPattern = httpx_utils.URLPattern
"""httpx's matcher of a proxy mount key (`all://*.example.com`) against a URL."""

# The methods `httpx.AsyncClient` calls to build its transports, which `DefaultAioHttpClient`
# overrides to put aiohttp under them (as httpx-aiohttp's own client does).
TRANSPORT_HOOKS: Final = ("_init_transport", "_init_proxy_transport")


class CompatError(RuntimeError):
    """An internal of httpx, httpcore or the generated client is not where it was."""


def endpoint_kwargs(body: ChatCompletionRequest) -> dict[str, Any]:
    """The generated endpoint's method, url, headers and JSON for `body`, without sending it."""
    build = getattr(create_chat_completion, "_get_kwargs", None)
    if build is None:
        raise CompatError("chat_image_api.api.chat.create_chat_completion._get_kwargs is gone")
    kwargs: dict[str, Any] = build(body=body)
    return kwargs


def keep_content(response: httpx.Response, content: bytes) -> None:
    """Give `response` the body read by hand, as `Response.read()` would (`.content`, `.text`)."""
    if "_content" not in vars(response) and not hasattr(httpx.Response, "content"):
        raise CompatError("httpx.Response keeps its body elsewhere than _content")
    response._content = content


class _AnswerCookies(httpx.Cookies):
    """httpx's cookie store, whose jar reads only the answers that set a cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        # httpx hands every answer to http.cookiejar, through two adapter objects (about 15 us
        # a call); the jar acts on Set-Cookie alone, and an API's answers seldom carry one.
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def lean_cookies(client: httpx.Client | httpx.AsyncClient) -> None:
    """Let `client` skip the cookie jar for answers that set no cookie (same jar, same cookies).

    httpx has no public way to give a client a `Cookies` subclass: its setter copies into a
    plain one. Only for clients we make; a caller's own client is left as it is.
    """
    cookies = vars(client).get("_cookies")
    if type(cookies) is _AnswerCookies:
        return
    if type(cookies) is not httpx.Cookies or client.cookies is not cookies:
        raise CompatError("httpx clients keep their cookies elsewhere than _cookies")
    lean = _AnswerCookies()
    lean.jar = cookies.jar
    client._cookies = lean


def _pool(transport: httpx.HTTPTransport | httpx.AsyncHTTPTransport) -> Any:
    pool = getattr(transport, "_pool", None)
    if pool is None or not hasattr(pool, "_network_backend"):
        raise CompatError(
            f"{type(transport).__name__}._pool._network_backend is gone: httpx or httpcore moved "
            "the pool's network backend"
        )
    return pool


def network_backend(
    transport: httpx.HTTPTransport | httpx.AsyncHTTPTransport,
) -> httpcore.NetworkBackend | httpcore.AsyncNetworkBackend:
    """The network backend under `transport`'s connection pool."""
    backend: httpcore.NetworkBackend | httpcore.AsyncNetworkBackend = _pool(
        transport
    )._network_backend
    return backend


def set_network_backend(
    transport: httpx.HTTPTransport | httpx.AsyncHTTPTransport,
    backend: httpcore.NetworkBackend | httpcore.AsyncNetworkBackend,
) -> None:
    """Put `backend` under `transport`'s connection pool (httpx takes none as an argument)."""
    _pool(transport)._network_backend = backend


def check_transport_hooks() -> None:
    """`CompatError` unless `httpx.AsyncClient` still builds its transports through the hooks
    `DefaultAioHttpClient` overrides (else the override would silently do nothing)."""
    for name in TRANSPORT_HOOKS:
        if not callable(getattr(httpx.AsyncClient, name, None)):
            raise CompatError(f"httpx.AsyncClient.{name} is gone: DefaultAioHttpClient needs it")


def environment_proxies() -> dict[str, str | None]:
    """httpx's own reading of HTTP(S)_PROXY, ALL_PROXY and NO_PROXY: mount keys (`http://`,
    `all://example.com`) to proxy URLs, a scheme added where none is given; None: go direct."""
    read = getattr(httpx_utils, "get_environment_proxies", None)
    if not callable(read):
        raise CompatError("httpx._utils.get_environment_proxies is gone")
    proxies: dict[str, str | None] = read()
    return proxies


def url_pattern(key: str) -> URLPattern:
    """httpx's matcher for the mount key `key`, as httpx's clients build theirs."""
    if not callable(getattr(httpx_utils, "URLPattern", None)):
        raise CompatError("httpx._utils.URLPattern is gone")
    return httpx_utils.URLPattern(key)


def otel_meter_provider_reader() -> Callable[[], object | None]:
    """A function giving the meter provider set globally in OpenTelemetry, None until one is.

    Read where the API keeps it: its public `get_meter_provider()` looks the environment up on
    every call until a provider is set, which is most of what a call with the `otel` extra
    and no SDK would cost (issue 21). Imports OpenTelemetry: call it only with the extra.
    """
    from opentelemetry.metrics import _internal

    if not hasattr(_internal, "_METER_PROVIDER"):
        raise CompatError("opentelemetry.metrics._internal._METER_PROVIDER is gone")

    def read() -> object | None:
        provider: object | None = _internal._METER_PROVIDER
        return provider

    return read
