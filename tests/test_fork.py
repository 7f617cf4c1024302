"""A client used before a fork: parent and child each get their own answer, on their own socket.

gunicorn `--preload`, Celery prefork and `multiprocessing` with the fork start method all
fork a process whose client already holds pooled connections. Here the parent calls once
(so its pool keeps a connection), forks, and then parent and child call at the same moment.
The server records which connection (handler thread: one per connection) each request came
on; the two calls after the fork must arrive whole, on two connections.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chat_image import AsyncChatImage, ChatImage, DefaultAioHttpClient, UserMessage
from chat_image.testing import FakeGateway, RecordedRequest, Reply
from conftest import API_KEY

pytestmark = [
    pytest.mark.skipif(
        "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
    ),
    # Python 3.12+ warns about forking a process with threads (the server's); that is the case.
    pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning"),
]

_JOIN_SECONDS = 30


class _Connections:
    """A responder that echoes each request's text and notes the connection it came on."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        text = request.json["messages"][0]["content"]
        with self._lock:
            self.seen.append((text, threading.get_ident()))
        # Both calls are in flight together, whichever the server reads first.
        return Reply(content=f"answer to {text}", delay=0.2)

    def connection_of(self, text: str) -> int:
        return next(ident for seen, ident in self.seen if seen == text)


@pytest.fixture
def gateway() -> Iterator[tuple[FakeGateway, _Connections]]:
    with FakeGateway(api_key=API_KEY) as running:
        connections = _Connections()
        running.responder = connections
        yield running, connections


def _params(text: str) -> dict[str, Any]:
    return {"model": "m", "messages": [UserMessage(text)], "max_tokens": 5}


def _in_child(call: Callable[[], str]) -> tuple[multiprocessing.Queue[str], Any, Any]:
    """Start a forked child that waits at the barrier, then calls; its answer goes on a queue."""
    context = multiprocessing.get_context("fork")
    answers: multiprocessing.Queue[str] = context.Queue()
    barrier = context.Barrier(2)

    def run() -> None:
        barrier.wait()
        try:
            answers.put(call())
        except BaseException as exc:  # the child's failure is the test's to report
            answers.put(f"child failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")

    child = context.Process(target=run, daemon=True)
    child.start()
    return answers, barrier, child


def _check(connections: _Connections, parent_answer: str, answers: Any, child: Any) -> None:
    child_answer = answers.get(timeout=_JOIN_SECONDS)
    child.join(_JOIN_SECONDS)
    assert (parent_answer, child_answer) == ("answer to parent", "answer to child")
    assert child.exitcode == 0
    # Whole requests, each on a connection of its own (the parent may reuse its first one).
    assert sorted(text for text, _ in connections.seen) == ["before", "child", "parent"]
    assert connections.connection_of("parent") != connections.connection_of("child")


def test_sync_client_used_before_fork(gateway: tuple[FakeGateway, _Connections]) -> None:
    server, connections = gateway
    with ChatImage(api_key=API_KEY, base_url=server.base_url, timeout=10, max_retries=0) as client:

        def call(text: str) -> str:
            completion = client.chat.completions.create(**_params(text))
            return completion.choices[0].message.content or ""

        call("before")
        answers, barrier, child = _in_child(lambda: call("child"))
        barrier.wait()
        _check(connections, call("parent"), answers, child)


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_async_client_used_before_fork(
    gateway: tuple[FakeGateway, _Connections], backend: str
) -> None:
    server, connections = gateway
    http_client = DefaultAioHttpClient() if backend == "aiohttp" else None
    client = AsyncChatImage(
        api_key=API_KEY,
        base_url=server.base_url,
        timeout=10,
        max_retries=0,
        http_client=http_client,
    )

    async def call(text: str) -> str:
        completion = await client.chat.completions.create(**_params(text))
        return completion.choices[0].message.content or ""

    # The parent keeps one event loop (and so its pool) across the fork; the child runs its
    # own, in which the parent's connections could not work even if it were safe to share them.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(call("before"))
        answers, barrier, child = _in_child(lambda: asyncio.run(call("child")))
        barrier.wait()
        _check(connections, loop.run_until_complete(call("parent")), answers, child)
        loop.run_until_complete(client.close())
    finally:
        loop.close()


def test_own_http_client_is_refused_after_fork(gateway: tuple[FakeGateway, _Connections]) -> None:
    """A caller's own httpx client cannot be remade here: the child is told, not given it."""
    import httpx

    server, _ = gateway
    with (
        httpx.Client() as http,
        ChatImage(api_key=API_KEY, base_url=server.base_url, http_client=http) as client,
    ):

        def call(text: str) -> str:
            client.chat.completions.create(**_params(text))
            return "answered"

        call("before")
        answers, barrier, child = _in_child(lambda: call("child"))
        barrier.wait()
        answer = answers.get(timeout=_JOIN_SECONDS)
        child.join(_JOIN_SECONDS)
    assert answer.startswith("child failed: ChatImageError: ")
    assert "another process" in answer
    assert "http_client" in answer
