"""Reading an answer: its body, bounded as it is decompressed, and the typed completion in it.

A 1 MB gzip body can inflate to 1 GB; `httpx.Response.read()` would hold all of it. Here the
decoded chunks are counted as they come, and reading stops past the limit. `RawResponse` is
what `with_raw_response.create(...)` returns, as in the `openai` package: the HTTP answer for
callers that need its headers or retries; `.parse()` gives the typed completion.
"""

from __future__ import annotations

import json

import attrs
import httpx

from ._compat import keep_content
from ._config import RETRIES_TAKEN_EXTENSION
from ._exceptions import APIResponseValidationError, ResponseTooLargeError, status_error
from ._models.completion import ChatCompletion, ResponseShapeError, parse_chat_completion
from ._redact import request_id_of
from ._transports import deadline as _deadline

__all__ = ["RawResponse", "aread_body", "read_body", "read_completion", "retries_taken"]


@attrs.frozen
class RawResponse:
    """A successful (2xx) answer, its body read; errors are raised before one is made."""

    http_response: httpx.Response = attrs.field(repr=False)

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def request_id(self) -> str | None:
        """The gateway's `x-request-id` (or `request-id`), for support requests."""
        return request_id_of(self.http_response)

    @property
    def retries_taken(self) -> int:
        """Retries before this answer: 0 when the first attempt succeeded."""
        return retries_taken(self.http_response)

    @property
    def elapsed(self) -> float:
        """Seconds from sending the last attempt to reading its whole answer."""
        return self.http_response.elapsed.total_seconds()

    def parse(self) -> ChatCompletion:
        """The typed chat completion; `APIResponseValidationError` if the body is not one."""
        return read_completion(self.http_response)

    def __repr__(self) -> str:
        return (
            f"RawResponse(status_code={self.status_code}, request_id={self.request_id!r}, "
            f"retries_taken={self.retries_taken})"
        )


def read_completion(response: httpx.Response) -> ChatCompletion:
    """The typed completion in a read response, or the error that says why there is none."""
    if not response.is_success:
        raise status_error(response)
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError) as exc:
        problem = "empty body" if not response.content else f"body is not JSON ({exc})"
        raise APIResponseValidationError(response, problem) from None
    try:
        return parse_chat_completion(data)
    except ResponseShapeError as exc:
        raise APIResponseValidationError(response, f"not a chat completion: {exc}") from None


def _keep(response: httpx.Response, chunks: list[bytes]) -> None:
    # What `Response.read()` does with what it read, so that `.content` and `.text` work.
    keep_content(response, b"".join(chunks))


def read_body(response: httpx.Response, limit: int) -> None:
    """Read `response`'s body into it, or raise `ResponseTooLargeError` past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise ResponseTooLargeError(response, limit)
        chunks.append(chunk)
        _deadline.check()  # for a caller's own client, whose sockets have no deadline
    _keep(response, chunks)


async def aread_body(response: httpx.Response, limit: int) -> None:
    """`read_body`, for an async response (its deadline is the caller's asyncio timeout)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ResponseTooLargeError(response, limit)
        chunks.append(chunk)
    _keep(response, chunks)


def retries_taken(response: httpx.Response) -> int:
    """How many times the request was sent again before `response` came: 0 if never."""
    value = response.extensions.get(RETRIES_TAKEN_EXTENSION, 0)
    return value if isinstance(value, int) else 0
