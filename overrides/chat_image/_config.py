"""Where the base URL, the API key and the defaults come from: arguments, then environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

import attrs
import httpx

from ._validation import (
    check_api_key,
    check_configured,
    check_max_retries,
    check_timeout,
    normalize_base_url,
)

__all__ = [
    "DEFAULT_CONNECTION_LIMITS",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_RETRIES_EXTENSION",
    "RETRIES_TAKEN_EXTENSION",
    "STREAM_EXTENSION",
    "Settings",
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


def _from_env(names: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


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
        key = check_api_key(check_configured("api_key", key, API_KEY_ENV))
        url = base_url if base_url is not None else _from_env(BASE_URL_ENV, env)
        return cls(
            base_url=normalize_base_url(check_configured("base_url", url, BASE_URL_ENV)),
            api_key=key,
            timeout=to_timeout(timeout),
            max_retries=check_max_retries(max_retries),
        )


def to_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """A number means that many seconds for every phase, as in httpx; None means the default."""
    checked = check_timeout(timeout)
    return DEFAULT_TIMEOUT if checked is None else checked


# The httpx extensions the clients and `RetryTransport` share. On a request: its own retry
# budget, instead of the transport's (the clients send 0: they retry around `send()`).
MAX_RETRIES_EXTENSION: Final = "chat_image.max_retries"
# On a request: its answer is read as it arrives, so `RetryTransport` must not buffer it.
STREAM_EXTENSION: Final = "chat_image.stream"
# On a final response: how many retries it took (read by `with_raw_response` and streams).
RETRIES_TAKEN_EXTENSION: Final = "chat_image.retries_taken"
