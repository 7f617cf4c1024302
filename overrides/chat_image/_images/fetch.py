"""Image URLs downloaded by the client (`urls="inline"`, and `"auto"` once the gateway says it
could not fetch one).

A download goes out on an httpx client of its own: never the gateway's key, headers or pool.
It follows at most 3 redirects, on http(s) only; its time and size caps hold while it reads
(a server that trickles or lies about Content-Length is cut off). Failures are
`ImageFetchError` with the URL's query string and user info redacted, so a presigned
signature never reaches a message or a log. `DownloadCache` keeps what was fetched, for the
rest of a call or a batch run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import httpx

from .errors import ImageFetchError
from .sniff import SNIFF_BYTES, sniff

__all__ = ["MAX_REDIRECTS", "DownloadCache", "afetch_images", "fetch_images", "redact_url"]

MAX_REDIRECTS: Final = 3
_FIELD: Final = "image_url.url"
_REDACTED: Final = "[redacted]"
# Phrases with which gateways say they could not fetch an image URL (OpenAI's 400
# `invalid_image_url`, "Timeout while downloading ...", "Failed to download image ...").
FETCH_FAILURE_SIGNS: Final = (
    "invalid_image_url",
    "timeout while downloading",
    "failed to download",
)


def redact_url(url: str) -> str:
    """`url` without its query string, fragment or user info: what messages may show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _REDACTED
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    query = _REDACTED if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


class DownloadCache:
    """Downloaded images by URL, shared by the calls of one client or one batch run."""

    def __init__(self, max_entries: int = 64) -> None:
        self._items: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, url: str) -> bytes | None:
        with self._lock:
            return self._items.get(url)

    def put(self, url: str, data: bytes) -> None:
        with self._lock:
            if len(self._items) >= self._max_entries:
                self._items.pop(next(iter(self._items)))
            self._items[url] = data


def _check_scheme(url: str) -> None:
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise ImageFetchError(
            _FIELD, f"{redact_url(url)}: only http(s) URLs are downloaded", url=redact_url(url)
        )


def _fail(url: str, problem: str, status: int | None = None) -> ImageFetchError:
    shown = redact_url(url)
    return ImageFetchError(
        _FIELD, f"downloading {shown} failed: {problem}", url=shown, status=status
    )


def _check_response(url: str, response: httpx.Response, max_bytes: int) -> None:
    if response.is_redirect:
        raise _fail(url, f"more than {MAX_REDIRECTS} redirects")
    if response.status_code >= 400:
        raise _fail(url, f"HTTP {response.status_code}", response.status_code)
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _fail(url, f"{int(declared):,} bytes announced, over the cap of {max_bytes:,}")
    scheme = response.url.scheme
    if scheme not in ("http", "https"):
        raise _fail(url, f"redirected to a {scheme!r} URL")


def _accept(url: str, received: int, max_bytes: int, deadline: float, timeout: float) -> None:
    if received > max_bytes:
        raise _fail(url, f"more than the cap of {max_bytes:,} bytes")
    if time.monotonic() > deadline:
        raise _fail(url, f"took longer than {timeout:g} s")


def _check_image(url: str, data: bytes) -> bytes:
    if sniff(data[:SNIFF_BYTES]) is None:
        raise _fail(url, f"the answer is not an image (starts with {data[:8]!r})")
    return data


def _client_options(timeout: float) -> dict[str, object]:
    return {
        "follow_redirects": True,
        "max_redirects": MAX_REDIRECTS,
        "timeout": httpx.Timeout(timeout),
        "headers": {"Accept": "image/*"},
        # Never the environment's proxies or .netrc credentials: only what the URL says.
        "trust_env": False,
    }


def fetch_images(
    urls: Iterable[str], *, timeout: float, max_bytes: int, cache: DownloadCache | None = None
) -> dict[str, bytes]:
    """Each URL's image, downloaded once (or taken from `cache`); ImageFetchError if one fails."""
    found: dict[str, bytes] = {}
    pending = []
    for url in urls:
        cached = cache.get(url) if cache is not None else None
        if cached is not None:
            found[url] = cached
        else:
            _check_scheme(url)
            pending.append(url)
    if not pending:
        return found
    with httpx.Client(**_client_options(timeout)) as client:  # type: ignore[arg-type]
        for url in pending:
            deadline = time.monotonic() + timeout
            chunks: list[bytes] = []
            received = 0
            try:
                with client.stream("GET", url) as response:
                    _check_response(url, response, max_bytes)
                    for chunk in response.iter_bytes():
                        received += len(chunk)
                        _accept(url, received, max_bytes, deadline, timeout)
                        chunks.append(chunk)
            except httpx.TooManyRedirects:
                raise _fail(url, f"more than {MAX_REDIRECTS} redirects") from None
            except httpx.TimeoutException:
                raise _fail(url, f"took longer than {timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise _fail(url, type(exc).__name__) from None
            found[url] = _check_image(url, b"".join(chunks))
            if cache is not None:
                cache.put(url, found[url])
    return found


async def afetch_images(
    urls: Iterable[str], *, timeout: float, max_bytes: int, cache: DownloadCache | None = None
) -> dict[str, bytes]:
    """`fetch_images`, awaited."""
    found: dict[str, bytes] = {}
    pending = []
    for url in urls:
        cached = cache.get(url) if cache is not None else None
        if cached is not None:
            found[url] = cached
        else:
            _check_scheme(url)
            pending.append(url)
    if not pending:
        return found
    async with httpx.AsyncClient(**_client_options(timeout)) as client:  # type: ignore[arg-type]
        for url in pending:
            deadline = time.monotonic() + timeout
            chunks: list[bytes] = []
            received = 0
            try:
                async with client.stream("GET", url) as response:
                    _check_response(url, response, max_bytes)
                    async for chunk in response.aiter_bytes():
                        received += len(chunk)
                        _accept(url, received, max_bytes, deadline, timeout)
                        chunks.append(chunk)
            except httpx.TooManyRedirects:
                raise _fail(url, f"more than {MAX_REDIRECTS} redirects") from None
            except httpx.TimeoutException:
                raise _fail(url, f"took longer than {timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise _fail(url, type(exc).__name__) from None
            found[url] = _check_image(url, b"".join(chunks))
            if cache is not None:
                cache.put(url, found[url])
    return found


def gateway_could_not_fetch(status: int, text: str) -> bool:
    """Whether an error answer says the gateway could not fetch an image URL."""
    lowered = text.lower()
    return status == 400 and any(sign in lowered for sign in FETCH_FAILURE_SIGNS)
