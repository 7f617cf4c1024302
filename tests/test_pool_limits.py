"""Many concurrent calls on one async client are all in flight at once, over httpx and aiohttp."""

from __future__ import annotations

import asyncio
import threading

from chat_image import AsyncChatImage, UserMessage
from chat_image.testing import Reply
from completions import completion
from conftest import API_KEY, backend_kwargs


def test_150_concurrent_calls_are_in_flight_together(server, backend):
    """httpx's default pool (100 connections) would queue a third of them, and so would
    aiohttp's: the server below answers none until all 150 have arrived, so with that pool
    the barrier breaks and the calls fail. The client's pool allows 1000, as the `openai`
    package's does, and `DefaultAioHttpClient` carries it."""
    calls = 150
    barrier = threading.Barrier(calls, timeout=20)

    def all_at_once(_):
        barrier.wait()
        return Reply(body=completion())

    server.responder = all_at_once

    async def main() -> None:
        kwargs = backend_kwargs(backend)
        async with AsyncChatImage(api_key=API_KEY, base_url=server.url, **kwargs) as chat:
            await asyncio.gather(
                *(
                    chat.chat.completions.create(
                        model="m", messages=[UserMessage("x")], max_tokens=1
                    )
                    for _ in range(calls)
                )
            )

    asyncio.run(main())
    assert len(server.requests) == calls
