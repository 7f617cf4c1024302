"""Proxies from the environment, read as httpx reads them, and checked before any use.

httpx stops reading `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` once a client is
given a transport, so `RetryTransport`, which builds its own, reads them itself; this is that
reading: httpx's own (`user:pass@host:port` without a scheme is `http://`; `NO_PROXY` as curl
reads it), each proxy checked when the client is made. One httpx could not use (another
scheme, a bad port or host, SOCKS without `socksio`) is refused as `InvalidInputError` naming
the variable, never quoting its password: a raw `ValueError` would carry it into logs.
"""

from __future__ import annotations

import os
from typing import Final

import httpx

from .._compat import URLPattern, environment_proxies, url_pattern
from .._validation import check_proxy, check_proxy_pattern

__all__ = ["EnvironmentProxies", "check_environment_proxies"]

_VARIABLES: Final = {"http://": "http_proxy", "https://": "https_proxy", "all://": "all_proxy"}


def _variable(key: str) -> str:
    """The variable a mount key came from, as it is spelt in the environment."""
    lower = _VARIABLES.get(key, "no_proxy")
    # urllib, which httpx reads through, prefers the lower-case spelling.
    return lower if lower in os.environ else lower.upper()


def check_environment_proxies(*, socks: bool = True) -> list[tuple[URLPattern, httpx.Proxy | None]]:
    """httpx's mounts for the proxy variables, most specific first: a proxy, or None to go
    direct (`NO_PROXY`); InvalidInputError for a variable that httpx could not use."""
    mounts: list[tuple[URLPattern, httpx.Proxy | None]] = []
    for key, value in environment_proxies().items():
        variable = _variable(key)
        proxy = None if value is None else check_proxy(variable, value, socks=socks)
        mounts.append((check_proxy_pattern(variable, key, url_pattern), proxy))
    mounts.sort(key=lambda mount: mount[0])
    return mounts


class EnvironmentProxies:
    """Which proxy (or none) a URL goes through, by the environment read once when made."""

    __slots__ = ("_mounts",)

    def __init__(self, trust_env: bool) -> None:
        self._mounts = check_environment_proxies() if trust_env else []

    def proxy_for(self, url: httpx.URL) -> httpx.Proxy | None:
        for pattern, proxy in self._mounts:
            if pattern.matches(url):
                return proxy
        return None
