"""`DefaultAioHttpClient`: an `httpx.AsyncClient` that sends over aiohttp, with our defaults.

Named and used as the `openai` package's is: `AsyncChatImage(http_client=DefaultAioHttpClient())`.
At a few hundred concurrent calls httpcore's pool bookkeeping dominates; aiohttp's pool does
not have that cost. Needs the `aiohttp` extra (httpx-aiohttp); this module imports neither
it nor aiohttp, so that `chat_image.DefaultAioHttpClient` can be named without the extra and
only making one fails, with `MissingExtraError`.
"""

from __future__ import annotations

from typing import Any

import httpx

from .._compat import check_transport_hooks, lean_cookies
from .._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT
from .._exceptions import MissingExtraError

__all__ = ["DefaultAioHttpClient"]


class DefaultAioHttpClient(httpx.AsyncClient):
    """`httpx.AsyncClient(**kwargs)` over aiohttp, with our timeouts and pool limits by default.

    Proxies from the environment (`HTTP(S)_PROXY`, `ALL_PROXY`, `NO_PROXY`) apply as in httpx.
    `AsyncChatImage` closes it when it closes, as the `openai` package does.
    """

    def __init__(self, **kwargs: Any) -> None:
        try:
            from . import _aiohttp_errors  # noqa: F401 - only whether the extra is there
        except ImportError as exc:
            raise MissingExtraError(
                "DefaultAioHttpClient", "aiohttp", exc.name or "httpx_aiohttp"
            ) from None
        check_transport_hooks()
        if (
            kwargs.get("trust_env", True)
            and kwargs.get("proxy") is None
            and kwargs.get("transport") is None
        ):
            # httpx reads the proxy variables below, and would raise a raw error quoting a
            # bad one, password and all: they are checked first, as `ChatImage()` checks them.
            from .proxies import check_environment_proxies

            check_environment_proxies(socks=False)
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        kwargs.setdefault("limits", DEFAULT_LIMITS)
        self._kwargs = dict(kwargs)
        super().__init__(**kwargs)
        lean_cookies(self)

    def remade(self) -> DefaultAioHttpClient:
        """A new client with the same arguments and a pool of its own (for a forked child)."""
        return type(self)(**self._kwargs)

    # httpx calls these (by keyword) for the default transport and for each proxy it reads
    # from the environment; `*args, **kwargs` keeps to httpx's signature across its versions.
    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        given: httpx.AsyncBaseTransport | None = kwargs.pop("transport", None)
        if given is not None:
            return given
        from ._aiohttp_errors import aiohttp_transport

        return aiohttp_transport(**kwargs)

    def _init_proxy_transport(
        self, proxy: httpx.Proxy, *args: Any, **kwargs: Any
    ) -> httpx.AsyncBaseTransport:
        from ._aiohttp_errors import aiohttp_transport

        return aiohttp_transport(proxy=_credentials_in_url(proxy), **kwargs)


def _credentials_in_url(proxy: httpx.Proxy) -> httpx.Proxy:
    """`proxy` with its user and password back in its URL, where aiohttp reads them itself.
    httpx-aiohttp would pass them as a `BasicAuth`, which aiohttp deprecates (a warning on
    every call); it sends to `str(proxy.url)`."""
    if proxy.auth is None:
        return proxy
    user, password = proxy.auth
    carried = httpx.Proxy(proxy.url, headers=proxy.headers, ssl_context=proxy.ssl_context)
    carried.url = proxy.url.copy_with(username=user, password=password)
    return carried
