"""Reading an answer's body: bounded in size as it is decompressed, and in time (sync).

A 1 MB gzip body can inflate to 1 GB; `httpx.Response.read()` would hold all of it. Here the
decoded chunks are counted as they come, and reading stops past the limit: memory stays
within the limit plus one decoded chunk.
"""

from __future__ import annotations

import httpx

from . import _deadline
from ._errors import ResponseTooLargeError
from ._settings import DEFAULT_MAX_RESPONSE_BYTES

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "aread_body", "read_body"]


def _keep(response: httpx.Response, chunks: list[bytes]) -> None:
    # What `Response.read()` does with what it read, so that `.content` and `.text` work.
    response._content = b"".join(chunks)


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
