"""`close()` ends a stream from wherever it is called: another thread (sync), another task
(async), while the consumer waits for the next event; a second consumer of one stream gets a
clear `ChatImageError`, not a generator's `ValueError` or `RuntimeError`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chat_image import ChatImageError, UserMessage
from chat_image.testing import Reply
from streams import StreamCaller, answer_events

_CREATE: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [UserMessage("hi")],
    "max_tokens": 5,
    "stream": True,
}


def _stalled(release: threading.Event) -> Iterator[bytes]:
    """Two chunks, then nothing until `release` (or 30 s), then the rest."""
    events = answer_events()
    yield from events[:2]
    release.wait(30)
    yield from events[2:]


@pytest.fixture
def release(server) -> Iterator[threading.Event]:
    event = threading.Event()
    server.default = Reply(stream_body=_stalled(event))
    yield event
    event.set()


def test_close_from_another_thread_ends_a_waiting_consumer(server, release):
    stream_call = StreamCaller("sync", server)
    seen: list[object] = []
    first = threading.Event()
    with stream_call.make() as client:
        stream = client.chat.completions.create(**_CREATE)

        def consume() -> None:
            try:
                for item in stream:
                    seen.append(item)
                    if len(seen) == 2:
                        first.set()
                seen.append("end")
            except ChatImageError as exc:
                seen.append(exc)
            except BaseException as exc:  # what the test must not see
                seen.append(("raw", exc))

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        assert first.wait(10)
        threading.Event().wait(0.2)  # the consumer is now blocked reading the socket
        stream.close()  # must neither raise nor wait for the server
        consumer.join(10)
        assert not consumer.is_alive(), "the consumer still waits after close()"
    assert len(seen) == 3
    assert seen[-1] == "end" or isinstance(seen[-1], ChatImageError), seen[-1]
    assert "open" not in repr(stream)


def test_close_from_another_task_ends_a_waiting_consumer(server, release, backend):
    stream_call = StreamCaller(f"async-{backend}", server)

    async def main() -> list[object]:
        seen: list[object] = []
        first = asyncio.Event()
        async with stream_call.make() as client:
            stream = await client.chat.completions.create(**_CREATE)

            async def consume() -> None:
                try:
                    async for item in stream:
                        seen.append(item)
                        if len(seen) == 2:
                            first.set()
                    seen.append("end")
                except ChatImageError as exc:
                    seen.append(exc)

            consumer = asyncio.create_task(consume())
            await asyncio.wait_for(first.wait(), 10)
            await asyncio.sleep(0.2)  # the consumer now awaits the next piece
            await stream.close()
            await asyncio.wait_for(consumer, 10)
            assert not consumer.cancelled()
        return seen

    seen = asyncio.run(main())
    assert len(seen) == 3
    assert seen[-1] == "end" or isinstance(seen[-1], ChatImageError), seen[-1]


def test_a_second_consumer_gets_a_clear_error(stream_call, server, release):
    if stream_call.kind == "sync":
        with stream_call.make() as client:
            stream = client.chat.completions.create(**_CREATE)
            chunks: list[object] = []
            started = threading.Event()

            def consume() -> None:
                for item in stream:
                    chunks.append(item)
                    started.set()

            first = threading.Thread(target=consume, daemon=True)
            first.start()
            assert started.wait(10)
            threading.Event().wait(0.2)  # the first consumer is now blocked reading
            with pytest.raises(ChatImageError, match="another"):
                next(stream)
            release.set()
            first.join(10)
            assert not first.is_alive()
        assert len(chunks) == len(answer_events()) - 1  # every chunk (all but [DONE])
        return

    async def main() -> int:
        async with stream_call.make() as client:
            stream = await client.chat.completions.create(**_CREATE)
            chunks: list[object] = []
            started = asyncio.Event()

            async def consume() -> None:
                async for item in stream:
                    chunks.append(item)
                    started.set()

            first = asyncio.create_task(consume())
            await asyncio.wait_for(started.wait(), 10)
            await asyncio.sleep(0.2)
            with pytest.raises(ChatImageError, match="another"):
                await stream.__anext__()
            release.set()
            await asyncio.wait_for(first, 10)
        return len(chunks)

    assert asyncio.run(main()) == len(answer_events()) - 1
