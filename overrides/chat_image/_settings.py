"""Where the base URL, the API key and the defaults come from: arguments, then environment."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import Final

import attrs
import httpx

from ._errors import InvalidInputError

__all__ = [
    "DEFAULT_CONNECTION_LIMITS",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "Settings",
    "check_headers",
    "check_max_retries",
    "check_seconds",
    "to_timeout",
]

# Project-specific names win over the OpenAI ones, which users of OpenAI-compatible
# gateways usually have set already.
API_KEY_ENV: Final = ("CHAT_IMAGE_API_KEY", "OPENAI_API_KEY")
BASE_URL_ENV: Final = ("CHAT_IMAGE_BASE_URL", "OPENAI_BASE_URL")
# A connection is up in milliseconds or not at all; a vision model may think for a while.
DEFAULT_TIMEOUT: Final = httpx.Timeout(120.0, connect=5.0)
DEFAULT_MAX_RETRIES: Final = 2
# Generous: a chat completion is kilobytes; an answer with images in it, megabytes.
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
# The `openai` package's pool limits. With httpx's defaults (100 connections, 20 kept alive)
# at most 100 calls are in flight: against a gateway that takes seconds per answer, 300
# concurrent calls would take three turns instead of one.
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
# Public under the `openai` package's name for it, beside DEFAULT_TIMEOUT: for an httpx
# client of one's own (`http_client=`) sized as ours would be.
DEFAULT_CONNECTION_LIMITS: Final = DEFAULT_LIMITS
# The spec's path already starts with /v1, while OpenAI-style base URLs end with it.
_API_VERSION_SUFFIX: Final = "/v1"


def _from_env(names: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


# `scheme://user:password@`: everything up to the authority's last "@".
_USERINFO: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@")
# A host name's labels as resolvers take them (letters, digits, hyphens; underscores, which
# service names use), at most 63 characters each.
_LABEL: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z")
_MAX_HOST_CHARS: Final = 253
# RFC 9110 token characters, for header names; values: visible ASCII, space and tab.
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_HEADER_VALUE: Final = re.compile(r"[\t\x20-\x7e]*\Z")


def _check_host(host: str, shown: str) -> None:
    """Refuse a host name no resolver takes, here rather than as a UnicodeError when sending."""
    if ":" in host or host.replace(".", "").isdigit():
        return  # an IP address, which httpx has already parsed
    name = host[:-1] if host.endswith(".") else host  # a trailing dot: fully qualified
    labels = name.split(".")
    problem = None
    if len(name) > _MAX_HOST_CHARS:
        problem = f"is {len(name)} characters long, over {_MAX_HOST_CHARS}"
    elif "" in labels:
        problem = "has an empty label (two dots in a row, or a leading dot)"
    else:
        bad = next((label for label in labels if not _LABEL.match(label)), None)
        if bad is not None:
            problem = (
                f"has a label over 63 characters ({bad[:20]}...)"
                if len(bad) > 63
                else f"has a label that is not letters, digits and inner hyphens ({bad!r})"
            )
    if problem is None:
        try:
            name.encode("idna")  # what the socket layer will do with it
        except UnicodeError as exc:
            problem = f"is not a valid host name ({exc})"
    if problem is not None:
        raise InvalidInputError("base_url", f"{shown!r}: the host {problem}")


def normalize_base_url(url: str | httpx.URL) -> str:
    """`https://gw.example/v1/` and `https://gw.example` both mean the same gateway here."""
    text = str(url).strip().rstrip("/")
    if _USERINFO.match(text):
        # httpx would send these as Basic auth in place of the key, and show them in logs.
        raise InvalidInputError(
            "base_url",
            f"{_USERINFO.sub(_hidden_userinfo, text)!r} has credentials in it (user:password@),"
            " which are refused; pass the key as api_key= (or set CHAT_IMAGE_API_KEY)",
        )
    try:
        parsed = httpx.URL(text)
        host = parsed.host  # decodes an `xn--` label, which may fail
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise InvalidInputError("base_url", f"{text!r} is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise InvalidInputError("base_url", f"{text!r} is not an http(s) URL with a host")
    if parsed.query or parsed.fragment:
        # The endpoint path is appended to the base URL: a query or fragment would swallow it.
        raise InvalidInputError("base_url", f"{text!r} has a query or fragment; give the URL only")
    if parsed.userinfo:
        raise InvalidInputError("base_url", "has credentials in it (user:password@), refused")
    _check_host(parsed.raw_host.decode("ascii"), text)
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        raise InvalidInputError("base_url", f"{text!r}: port {parsed.port} is not in 1-65535")
    if text.endswith(_API_VERSION_SUFFIX):
        text = text[: -len(_API_VERSION_SUFFIX)]
    return text


@attrs.frozen
class Settings:
    """What a client needs to reach the gateway. The key never shows in its repr."""

    base_url: str
    api_key: str = attrs.field(repr=False)
    timeout: httpx.Timeout
    max_retries: int

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if environ is None else environ
        key = check_api_key(api_key) if api_key is not None else _from_env(API_KEY_ENV, env)
        if not key:
            raise InvalidInputError(
                "api_key",
                "missing; pass api_key=... or set " + " or ".join(API_KEY_ENV),
            )
        check_api_key(key)
        url = base_url if base_url is not None else _from_env(BASE_URL_ENV, env)
        if not url:
            raise InvalidInputError(
                "base_url",
                "missing; pass base_url=... or set " + " or ".join(BASE_URL_ENV),
            )
        return cls(
            base_url=normalize_base_url(url),
            api_key=key,
            timeout=to_timeout(timeout),
            max_retries=check_max_retries(max_retries),
        )


def check_api_key(value: object) -> str:
    """The key without surrounding whitespace (a key read from a file ends in a newline).

    Anything that cannot travel in an HTTP header is refused here, without echoing it: httpx
    would otherwise fail later with an error quoting the whole header.
    """
    if not isinstance(value, str):
        raise InvalidInputError("api_key", f"expected a string, got {type(value).__name__}")
    key = value.strip()
    if not (key.isascii() and key.isprintable()) or any(char.isspace() for char in key):
        raise InvalidInputError(
            "api_key", "contains spaces, control or non-ASCII characters (value not shown)"
        )
    return key


def _hidden_userinfo(match: re.Match[str]) -> str:
    scheme = match.group(0).split("://", 1)[0]
    return f"{scheme}://***@"


def check_headers(field: str, headers: object) -> dict[str, str]:
    """Headers as httpx can send them, or an InvalidInputError naming the one that cannot be.

    Values are never echoed: a header may well carry a secret.
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidInputError(
            field, f"expected a mapping of header names to values, got {type(headers).__name__}"
        )
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise InvalidInputError(field, f"{name!r} is not a valid header name")
        where = f"{field}[{name!r}]"
        if not isinstance(value, str):
            raise InvalidInputError(where, f"expected a string, got {type(value).__name__}")
        if not _HEADER_VALUE.match(value):
            raise InvalidInputError(
                where,
                "has non-ASCII or control characters (value not shown); "
                "header values are ASCII text",
            )
    return dict(headers)


def check_max_retries(value: object, field: str = "max_retries") -> int:
    """An integer >= 0, or the error that names `field`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(field, f"expected an integer >= 0, got {value!r}")
    return value


def to_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """A number means that many seconds for every phase, as in httpx; None means the default."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        for phase, value in timeout.as_dict().items():
            if value is not None and not _positive_seconds(value):
                raise InvalidInputError(f"timeout.{phase}", f"expected seconds > 0, got {value!r}")
        return timeout
    if not _positive_seconds(timeout):
        raise InvalidInputError(
            "timeout", f"expected seconds > 0 or an httpx.Timeout, got {timeout!r}"
        )
    return httpx.Timeout(float(timeout))


def check_seconds(field: str, value: object) -> float | None:
    """None, or a number of seconds > 0; else the error that names `field`."""
    if value is None:
        return None
    if not _positive_seconds(value):
        raise InvalidInputError(field, f"expected seconds > 0 or None, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _positive_seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
