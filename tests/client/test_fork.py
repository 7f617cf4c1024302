"""A client used before a fork: parent and child each get their own answer, on their own socket.

gunicorn `--preload`, Celery prefork and `multiprocessing` with the fork start method all
fork a process whose client already holds pooled connections. Here the parent calls once
(so its pool keeps a connection), forks, and then parent and child call at the same moment.
Each answer names the connection (client port) its request came on: the two calls after the
fork must arrive whole, on two connections.

The forking runs in a fresh interpreter with no threads of its own: forking the test process,
whose fake gateway serves from threads, is itself unsafe (CPython's threading state in the
child), and would make the test flaky for reasons that are not the client's.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from chat_image.testing import FakeGateway, RecordedRequest, Reply
from conftest import API_KEY

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
)

# Run as `python -c SCENARIO KIND BASE_URL API_KEY`; prints one JSON line of the answers.
SCENARIO = r"""
import asyncio, json, multiprocessing, sys, traceback
import httpx
from chat_image import AsyncChatImage, ChatImage, DefaultAioHttpClient, UserMessage

kind, base_url, api_key = sys.argv[1:4]
context = multiprocessing.get_context("fork")
options = {"api_key": api_key, "base_url": base_url, "timeout": 10, "max_retries": 0}

def params(text):
    return {"model": "m", "messages": [UserMessage(text)], "max_tokens": 5}

def fork_and_call(call_before, call_in_parent, call_in_child):
    answers = {"before": call_before("before")}
    queue, barrier = context.Queue(), context.Barrier(2)

    def child():
        barrier.wait()
        try:
            queue.put(call_in_child("child"))
        except BaseException as exc:
            queue.put(f"child failed: {type(exc).__name__}: {exc}")

    process = context.Process(target=child, daemon=True)
    process.start()
    barrier.wait()
    answers["parent"] = call_in_parent("parent")
    answers["child"] = queue.get(timeout=30)
    process.join(30)
    answers["child_exitcode"] = process.exitcode
    return answers

if kind in ("sync", "own_http_client"):
    http = httpx.Client() if kind == "own_http_client" else None
    client = ChatImage(**options, http_client=http)
    def call(text):
        return client.chat.completions.create(**params(text)).choices[0].message.content
    answers = fork_and_call(call, call, call)
else:
    client = AsyncChatImage(
        **options, http_client=DefaultAioHttpClient() if kind == "aiohttp" else None
    )
    async def acall(text):
        completion = await client.chat.completions.create(**params(text))
        return completion.choices[0].message.content
    # The parent keeps one event loop (and so its pool) across the fork; the child runs its
    # own, in which the parent's connections could not work even if sharing them were safe.
    loop = asyncio.new_event_loop()
    run = lambda text: loop.run_until_complete(acall(text))
    answers = fork_and_call(run, run, lambda text: asyncio.run(acall(text)))
print(json.dumps(answers))
"""


def _answer(request: RecordedRequest) -> Reply:
    text = request.json["messages"][0]["content"]
    # Both calls are in flight together, whichever the server reads first.
    return Reply(content=f"{text}@{request.client_port}", delay=0.2)


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway(api_key=API_KEY) as running:
        running.responder = _answer
        yield running


def _run(kind: str, gateway: FakeGateway) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO, kind, gateway.base_url, API_KEY],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answers


def _port(answer: str, text: str) -> int:
    said, _, port = answer.partition("@")
    assert said == text, answer
    return int(port)


@pytest.mark.parametrize("kind", ["sync", "async", "aiohttp"])
def test_a_client_used_before_fork_gives_the_child_its_own_pool(
    gateway: FakeGateway, kind: str
) -> None:
    answers = _run(kind, gateway)
    assert answers["child_exitcode"] == 0, answers["child"]
    before = _port(answers["before"], "before")
    parent = _port(answers["parent"], "parent")
    child = _port(answers["child"], "child")
    # Whole requests, each on a connection of its own (the parent may reuse its first one).
    assert child not in (parent, before)
    assert sorted(request.json["messages"][0]["content"] for request in gateway.requests) == [
        "before",
        "child",
        "parent",
    ]


def test_own_http_client_is_refused_after_fork(gateway: FakeGateway) -> None:
    """A caller's own httpx client cannot be remade here: the child is told, not given it."""
    answers = _run("own_http_client", gateway)
    assert _port(answers["parent"], "parent")
    assert answers["child"].startswith("child failed: ChatImageError: ")
    assert "another process" in answers["child"]
    assert "http_client" in answers["child"]
