"""A client used across event loops, or closed from another thread mid-call: a clear error of
ours at the first call it affects, never a raw RuntimeError or httpx error from deep inside."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from chat_image import AsyncChatImage, ChatImageError, DefaultAioHttpClient, UserMessage
from chat_image.testing import FakeGateway, RecordedRequest, Reply
from conftest import API_KEY

CREATE: dict[str, Any] = {"model": "m", "messages": [UserMessage("hi")], "max_tokens": 5}


def async_client(server: FakeGateway, backend: str) -> AsyncChatImage:
    http = DefaultAioHttpClient() if backend == "aiohttp" else None
    return AsyncChatImage(api_key=API_KEY, base_url=server.url, http_client=http)


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_an_async_client_used_under_a_second_asyncio_run_says_so(server, backend):
    chat = async_client(server, backend)

    async def one(close: bool) -> str:
        answer = await chat.chat.completions.create(**CREATE)
        if close:
            # Else its connection, whose loop is gone, is only closed by the collector.
            await chat.close()
        return answer.id

    assert asyncio.run(one(close=True))
    with pytest.raises(ChatImageError, match="used in another event loop") as caught:
        asyncio.run(one(close=False))
    assert "asyncio.run()" in str(caught.value)
    assert type(caught.value) is ChatImageError
    assert server.count == 1  # refused before anything was sent


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_an_async_client_serves_many_calls_in_its_one_loop(server, backend):
    async def main() -> list[str]:
        async with async_client(server, backend) as chat:
            first = await chat.chat.completions.create(**CREATE)
            second = await chat.chat.completions.create(**CREATE)
            return [first.id, second.id]

    assert len(asyncio.run(main())) == 2
    assert server.count == 2


def test_a_client_made_outside_any_loop_works_in_the_first_loop_that_uses_it(server):
    chat = async_client(server, "httpx")
    chat.api_client  # noqa: B018 - read outside a loop: binds nothing

    async def main() -> str:
        async with chat:
            return (await chat.chat.completions.create(**CREATE)).id

    assert asyncio.run(main())


def _held_until(release: threading.Event, arrived: threading.Event) -> Any:
    """A responder holding each request until `release`, after saying it `arrived`."""

    def respond(request: RecordedRequest) -> Reply | None:
        arrived.set()
        release.wait()
        return None  # the default answer

    return respond


def test_close_from_another_thread_during_a_sync_call_says_so(server):
    arrived, release = threading.Event(), threading.Event()
    server.responder = _held_until(release, arrived)
    client = server.client(max_retries=2)
    outcome: list[BaseException | str] = []

    def call() -> None:
        try:
            outcome.append(client.chat.completions.create(**CREATE).id)
        except BaseException as exc:  # the outcome is what is checked
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert arrived.wait(timeout=30)
    client.close()
    release.set()
    caller.join()
    [error] = outcome
    assert isinstance(error, ChatImageError)
    assert type(error) is ChatImageError
    assert "while this call was under way" in str(error)
    assert server.count == 1  # no retry on a closed pool


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_close_from_another_task_during_an_async_call_says_so(server, backend):
    arrived, release = threading.Event(), threading.Event()
    server.responder = _held_until(release, arrived)

    async def main() -> BaseException | str:
        chat = async_client(server, backend)
        task = asyncio.ensure_future(chat.chat.completions.create(**CREATE))
        while not arrived.is_set():
            await asyncio.sleep(0.01)
        await chat.close()
        release.set()
        try:
            return (await task).id
        except BaseException as exc:  # the outcome is what is checked
            return exc

    error = asyncio.run(main())
    assert type(error) is ChatImageError
    assert "while this call was under way" in str(error)
    assert server.count == 1


def test_a_sync_client_closed_before_a_call_still_says_it_is_closed(server):
    client = server.client()
    client.close()
    with pytest.raises(ChatImageError, match="the client is closed"):
        client.chat.completions.create(**CREATE)
    assert server.count == 0


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_close_works_from_cleanup_code_in_another_event_loop(server, backend):
    """Cleanup often runs under a later asyncio.run() (a fixture's teardown, an atexit hook):
    close() must close there, not refuse the loop the way a call does. Run in a child process:
    the connections whose loop ended are only reclaimed by the collector there."""
    import subprocess
    import sys
    import textwrap

    program = textwrap.dedent(
        f"""
        import asyncio
        from chat_image import AsyncChatImage, DefaultAioHttpClient, UserMessage
        http = DefaultAioHttpClient() if {backend!r} == "aiohttp" else None
        chat = AsyncChatImage(api_key={API_KEY!r}, base_url={server.url!r}, http_client=http)

        async def call():
            answer = await chat.chat.completions.create(
                model="m", messages=[UserMessage("hi")], max_tokens=5
            )
            return answer.id

        assert asyncio.run(call())
        asyncio.run(chat.close())
        assert chat.api_client.get_async_httpx_client().is_closed
        print("closed")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "closed"
    assert server.count == 1
