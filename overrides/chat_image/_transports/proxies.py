"""Proxies from the environment, read as httpx reads them, and checked before any use.

httpx stops reading `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` once a client is
given a transport, so `RetryTransport`, which builds its own, reads them itself; this is that
reading: httpx's own (`user:pass@host:port` without a scheme is `http://`; `NO_PROXY` as curl
reads it), each proxy checked when the client is made. One httpx could not use (another
scheme, a bad port or host, SOCKS without `socksio`) is refused as `InvalidInputError` naming
the variable, never quoting its password: a raw `ValueError` would carry it into logs.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
from typing import Final

import httpx

from .._compat import URLPattern, environment_proxies, url_pattern
from .._exceptions import InvalidInputError

__all__ = ["EnvironmentProxies", "check_environment_proxies"]

_SCHEMES: Final = ("http", "https", "socks5", "socks5h")
_SOCKS: Final = ("socks5", "socks5h")
# A host name's characters (IDNA names arrive as xn--...); IP literals are checked apart.
_HOST_NAME: Final = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")
_VARIABLES: Final = {"http://": "http_proxy", "https://": "https_proxy", "all://": "all_proxy"}


def _variable(key: str) -> str:
    """The variable a mount key came from, as it is spelt in the environment."""
    lower = _VARIABLES.get(key, "no_proxy")
    # urllib, which httpx reads through, prefers the lower-case spelling.
    return lower if lower in os.environ else lower.upper()


def _shown(value: str) -> str:
    """`value` with its user and password left out, for a message."""
    scheme, sep, rest = value.rpartition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def _host_problem(host: str) -> str | None:
    if not host:
        return "it has no host"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    if not _HOST_NAME.fullmatch(host):
        return f"{host!r} is not a host name"
    return None


def _checked(variable: str, value: str, *, socks: bool) -> httpx.Proxy:
    """The proxy `value` names, or InvalidInputError saying why httpx could not use it."""

    def refuse(problem: str) -> InvalidInputError:
        return InvalidInputError(variable, f"{_shown(value)} is not a usable proxy: {problem}")

    scheme = value.partition("://")[0].lower()
    if scheme not in _SCHEMES:
        raise refuse(f"its scheme must be one of {', '.join(_SCHEMES)}")
    try:
        proxy = httpx.Proxy(value)
        port = proxy.url.port
        host = proxy.url.host
    except (ValueError, httpx.InvalidURL):
        # Their text quotes the URL, password and all: not repeated here.
        raise refuse("it is not a valid URL") from None
    if port is not None and not 0 < port < 65536:
        raise refuse(f"port {port} is not between 1 and 65535")
    problem = _host_problem(host)
    if problem:
        raise refuse(problem)
    if scheme in _SOCKS:
        if not socks:
            raise refuse("this client's backend (aiohttp) takes http and https proxies only")
        if importlib.util.find_spec("socksio") is None:
            raise refuse("a SOCKS proxy needs the socksio package: pip install 'httpx[socks]'")
    return proxy


def check_environment_proxies(*, socks: bool = True) -> list[tuple[URLPattern, httpx.Proxy | None]]:
    """httpx's mounts for the proxy variables, most specific first: a proxy, or None to go
    direct (`NO_PROXY`); InvalidInputError for a variable that httpx could not use."""
    mounts: list[tuple[URLPattern, httpx.Proxy | None]] = []
    for key, value in environment_proxies().items():
        variable = _variable(key)
        proxy = None if value is None else _checked(variable, value, socks=socks)
        try:
            pattern = url_pattern(key)
        except (ValueError, httpx.InvalidURL):
            raise InvalidInputError(variable, f"{key!r} is not a host httpx can match") from None
        mounts.append((pattern, proxy))
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
