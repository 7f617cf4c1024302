"""Many concurrent calls on one async client are all in flight at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx

import chat_image
from chat_image import AsyncChatImage, UserMessage
from chat_image.testing import Reply
from completions import completion
from conftest import API_KEY, backend_kwargs

CALLS = 150


def _all_in_flight(server, client: Callable[[], AbstractAsyncContextManager[AsyncChatImage]]):
    """Send CALLS calls at once to a server that answers none until all have arrived."""
    barrier = threading.Barrier(CALLS, timeout=20)

    def all_at_once(_):
        barrier.wait()
        return Reply(body=completion())

    server.responder = all_at_once

    async def main() -> None:
        async with client() as chat:
            await asyncio.gather(
                *(
                    chat.chat.completions.create(
                        model="m", messages=[UserMessage("x")], max_tokens=1
                    )
                    for _ in range(CALLS)
                )
            )

    asyncio.run(main())
    assert len(server.requests) == CALLS


def test_150_concurrent_calls_are_in_flight_together(server, backend):
    """httpx's default pool (100 connections) would queue a third of them, and so would
    aiohttp's: the server answers none until all 150 have arrived, so with that pool the
    barrier breaks and the calls fail. The client's pool allows 1000, as the `openai`
    package's does, and `DefaultAioHttpClient` carries it."""
    _all_in_flight(
        server,
        lambda: AsyncChatImage(api_key=API_KEY, base_url=server.url, **backend_kwargs(backend)),
    )


def test_the_public_limits_let_a_callers_httpx_client_do_the_same(server):
    """`DEFAULT_CONNECTION_LIMITS` is that pool, for an httpx client of one's own."""

    @asynccontextmanager
    async def client() -> AsyncIterator[AsyncChatImage]:
        http = httpx.AsyncClient(limits=chat_image.DEFAULT_CONNECTION_LIMITS)
        chat = AsyncChatImage(api_key=API_KEY, base_url=server.url, http_client=http)
        async with http, chat:
            yield chat

    _all_in_flight(server, client)
