"""A stream ends at `data: [DONE]` and is bounded in time by its data only, sync and async and
over aiohttp, against the fake gateway on 127.0.0.1 streaming exactly the bytes given.

What follows `[DONE]` (keep-alives, silence) must neither hold the stream open nor turn a
complete answer into an error; keep-alives of any kind (comments, `event:`, `retry:`, `id:`,
unknown fields) must not count as the server making progress; the bytes of a data line do.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import httpx
import pytest

from chat_image import APITimeoutError
from chat_image.testing import Reply
from streams import DONE, answer_events, chunk, event

_ANSWER = "A wooden boardwalk."
_PINGS_AFTER_DONE = 60


def _then(after: Iterator[bytes], sent: list[bytes]) -> Iterator[bytes]:
    """The whole answer (ending in [DONE]), then `after`, recording what of `after` went out."""
    yield from answer_events()
    for piece in after:
        yield piece
        sent.append(piece)


@pytest.mark.parametrize(
    "keep_alive",
    [b": ping\n\n", b"event: keepalive\n\n", b"data: {}\n\n"],
    ids=["comment", "event-line", "data-line"],
)
def test_a_stream_stops_at_done_whatever_follows(stream_call, server, keep_alive):
    """Pings after [DONE] every 50 ms for 3 s: the stream returns at [DONE], not at their end."""
    sent: list[bytes] = []
    body = _then(itertools.repeat(keep_alive, _PINGS_AFTER_DONE), sent)
    server.default = Reply(stream_body=body, pause=0.05)
    outcome = stream_call.stream(final=True)
    done_at = len(sent)
    assert outcome.error is None
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == _ANSWER
    # The stream was over (and its connection let go) long before the server stopped pinging.
    assert done_at < _PINGS_AFTER_DONE // 2


def test_silence_after_done_is_not_a_timeout(stream_call, server):
    """[DONE], then the body stays open and silent: the answer is complete, not timed out."""
    release = threading.Event()

    def body() -> Iterator[bytes]:
        yield from answer_events()
        release.wait(20)
        yield b": bye\n\n"

    server.default = Reply(stream_body=body())
    try:
        outcome = stream_call.stream(final=True, timeout=httpx.Timeout(5.0, read=0.5))
    finally:
        release.set()
    assert outcome.error is None
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == _ANSWER
    assert server.count == 1


def test_a_stream_that_ended_well_leaves_its_connection_for_the_next_call(stream_call, server):
    """Stopping at [DONE] must not cost a connection: a well-formed stream's is reused."""
    server.default = Reply(stream_body=answer_events())

    def two_streams() -> None:
        if stream_call.kind == "sync":
            with stream_call.make() as client:
                for _ in range(2):
                    stream = client.chat.completions.create(**_create())
                    assert stream.get_final_completion().choices[0].message.content == _ANSWER
            return

        async def main() -> None:
            async with stream_call.make() as client:
                for _ in range(2):
                    stream = await client.chat.completions.create(**_create())
                    final = await stream.get_final_completion()
                    assert final.choices[0].message.content == _ANSWER

        import asyncio

        asyncio.run(main())

    two_streams()
    first, second = server.requests
    assert first.client_port == second.client_port


def _create() -> dict[str, object]:
    from chat_image import UserMessage

    return {"model": "gpt-4o", "messages": [UserMessage("hi")], "max_tokens": 5, "stream": True}


@pytest.mark.parametrize(
    "keep_alive",
    [
        b"event: keepalive\n\n",
        b"retry: 1000\n\n",
        b"id: 7\n\n",
        b"heartbeat: 1\n\n",
        b"event: ping\nid: 8\nretry: 10\n\n",
    ],
    ids=["event", "retry", "id", "unknown-field", "all-three"],
)
def test_keep_alives_that_are_not_data_do_not_extend_the_read_timeout(
    stream_call, server, keep_alive
):
    """Only data resets the wait: 100 keep-alives 20 ms apart, read timeout 0.3 s."""
    server.default = Reply(stream_body=itertools.repeat(keep_alive, 100), pause=0.02)
    timeout = httpx.Timeout(5.0, read=0.3)
    outcome = stream_call.stream(client={"max_retries": 0}, timeout=timeout)
    assert isinstance(outcome.error, APITimeoutError), outcome.error
    assert "read timeout" in str(outcome.error)


def test_a_long_data_line_arriving_slowly_is_progress(stream_call, server):
    """One chunk's data line in ten pieces 0.15 s apart (1.5 s), read timeout 0.4 s: each
    piece is data arriving within the read timeout, so the stream is not timed out."""
    line = event(chunk("x" * 5000, finish_reason="stop"))
    size = len(line) // 10 + 1
    pieces = [line[i : i + size] for i in range(0, len(line), size)]
    head = event(chunk("", role="assistant"))
    server.default = Reply(stream_body=[head, *pieces, DONE], pause=0.15)
    outcome = stream_call.stream(final=True, timeout=httpx.Timeout(5.0, read=0.4))
    assert outcome.error is None, outcome.error
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == "x" * 5000


def test_chat_image_ask_returns_at_done(server, tmp_path):
    """`chat-image ask` streams by default: it prints the answer and exits at [DONE], though
    the gateway pings on for 30 s."""
    from cli_kit import run

    sent: list[bytes] = []
    body = _then(itertools.repeat(b": ping\n\n", 600), sent)
    server.default = Reply(stream_body=body, pause=0.05)
    done = run("ask", "hi", "--model", "gpt-4o", url=server.url, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, _ANSWER + "\n", "")
    assert len(sent) < 300


def test_a_stream_on_a_callers_own_client_stops_at_done(stream_call, server):
    """The same with the caller's own httpx client, whose sockets have no deadline of ours."""
    from conftest import async_http_client

    sent: list[bytes] = []
    body = _then(itertools.repeat(b": ping\n\n", _PINGS_AFTER_DONE), sent)
    server.default = Reply(stream_body=body, pause=0.05)
    if stream_call.kind == "sync":
        http: httpx.Client | httpx.AsyncClient = httpx.Client()
    else:
        http = async_http_client(stream_call.backend)
    try:
        outcome = stream_call.stream(client={"http_client": http}, final=True)
    finally:
        if isinstance(http, httpx.Client):
            http.close()
    done_at = len(sent)
    assert outcome.error is None, outcome.error
    assert outcome.completion is not None
    assert done_at < _PINGS_AFTER_DONE // 2
