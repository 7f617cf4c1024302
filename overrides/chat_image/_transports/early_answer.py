"""Early answers: a server that answers (413, say) before it has read a large request body.

httpcore's HTTP/1.1 connection reads the response when writing the body fails, so that such an
answer is heard; its sync streams keep the socket open after the failed write, and it works.
Its async streams (anyio over asyncio) do not read while they write, and a failed write closes
the transport, discarding the answer already waiting in the socket: the call then fails as a
dropped connection and is retried, sending the refused body again. `EarlyAnswerBackend` wraps
the async backend of the pools we build so that, while a large write is under way, the stream
also listens: an answer arriving first stops the write (as a `WriteError`, which httpcore
answers by reading the response) and is kept for httpcore to read. Imported when an async
pool is first made (it imports asyncio).
"""

from __future__ import annotations

import asyncio
import typing
from typing import Final

import httpcore
import httpx

from .._compat import network_backend, set_network_backend

__all__ = ["EarlyAnswerBackend", "install"]

# Writes smaller than this go straight through: they fit the socket's buffers and cannot
# block, and listening costs two tasks; an image-sized body is well over it.
_LISTENED_WRITE: Final = 64 * 1024
_READ_PIECE: Final = 64 * 1024


class _Stream(httpcore.AsyncNetworkStream):
    """A network stream that hears an answer arriving while a large write is under way."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        # What the server sent while the body was being written (b"": it hung up).
        self._early: bytes | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._early is None:
            return await self._inner.read(max_bytes, timeout)
        data, rest = self._early[:max_bytes], self._early[max_bytes:]
        self._early = rest or None
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if len(buffer) < _LISTENED_WRITE or self._early is not None:
            await self._inner.write(buffer, timeout)
            return
        write = asyncio.ensure_future(self._inner.write(buffer, timeout))
        # No timeout of its own: it is cancelled as soon as the write ends.
        listen = asyncio.ensure_future(self._inner.read(_READ_PIECE))
        tasks = (write, listen)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if listen.done() and listen.exception() is not None:
                await asyncio.wait((write,))  # nothing was heard: the write decides
        finally:
            # Done, or cancelled (a deadline, say): neither task outlives the write.
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            for task in tasks:
                if not task.cancelled():
                    task.exception()  # retrieved here; raised below where it matters
        if not listen.cancelled() and listen.exception() is None:
            self._early = listen.result()
        if write.cancelled():
            raise httpcore.WriteError("the server answered before the request body was sent")
        write.result()  # all sent (an answer heard meanwhile is read next), or the write's error

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class EarlyAnswerBackend(httpcore.AsyncNetworkBackend):
    """An async network backend whose streams hear early answers (see the module)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(
            await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install(transport: httpx.AsyncHTTPTransport) -> httpx.AsyncHTTPTransport:
    """`transport` with `EarlyAnswerBackend` under its pool (as `_deadline.install`, sync)."""
    backend = network_backend(transport)
    if not isinstance(backend, EarlyAnswerBackend):
        set_network_backend(transport, EarlyAnswerBackend(backend))  # type: ignore[arg-type]
    return transport
